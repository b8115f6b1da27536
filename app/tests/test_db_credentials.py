"""config.db: database credentials from Secrets Manager, refreshed when RDS rotates them.

Secrets Manager is moto's. PostgreSQL is a private server the session starts (initdb + pg_ctl
from PATH) with scram-sha-256 authentication everywhere, so a wrong password is refused by
the server itself, as RDS does after a rotation: the shared DATABASE_URL server may trust
its clients and accept any password. Each test gets its own role, whose password it changes
as RDS would; the server's log (SQLSTATE in each line) shows what the server made of every
connection attempt.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import re
import secrets as token
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection
from moto import mock_aws

from config.db import base as backend
from config.env import parse_database_url
from config.logging import JsonFormatter
from tests.helpers import APP_DIR, PYTHON, free_port, require

# Not the environment's region: the backend must take the region from the ARN.
REGION = "ap-northeast-1"
ENV_PASSWORD = "database-password-from-the-task-environment"


@pytest.fixture
def secrets(monkeypatch):
    """moto's Secrets Manager, fake credentials (boto3 never looks for real ones), empty cache."""
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    backend.credential_cache.clear()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)
    backend.credential_cache.clear()


@pytest.fixture
def fetches(monkeypatch):
    """Every Secrets Manager read the backend makes."""
    calls: list[str] = []
    real = backend.fetch_credentials

    def fetch(arn):
        calls.append(arn)
        return real(arn)

    monkeypatch.setattr(backend, "fetch_credentials", fetch)
    return calls


def make_secret(client, username: str, password: str) -> str:
    return client.create_secret(
        Name=f"rds-{uuid.uuid4().hex[:8]}",
        SecretString=json.dumps({"username": username, "password": password}),
    )["ARN"]


def rotate_secret(client, arn: str, username: str, password: str) -> None:
    client.put_secret_value(
        SecretId=arn, SecretString=json.dumps({"username": username, "password": password})
    )


def wrapper(url: str = "postgres://", **overrides) -> backend.DatabaseWrapper:
    """A connection through config.db to the DATABASE_URL-style `url`, configured like the
    app's (Django's defaults filled in from the test run's own connection)."""
    settings_dict = {
        **connection.settings_dict,
        **parse_database_url(url),
        "ENGINE": "config.db",
        "OPTIONS": {"connect_timeout": 5},
        "CONN_MAX_AGE": 0,
        "CREDENTIALS_TTL": 300,
        **overrides,
    }
    return backend.DatabaseWrapper(settings_dict, alias=f"creds-{uuid.uuid4().hex[:6]}")


# ---- A private PostgreSQL that checks passwords ----

# Every line of the server's log starts with the SQLSTATE and the user it concerns.
_LOG_SETTINGS = """
log_connections = on
log_line_prefix = 'sqlstate=%e user=%u '
"""
# What the server made of a connection: authenticated (00000), or refused (the FATAL's code).
_OUTCOME = re.compile(r"^sqlstate=(\w{5}) user=(\S+) (?:LOG:  connection authorized|FATAL:)")


def _server_binary(name: str) -> str | None:
    """On PATH, or next to `postgres` (some installs link only the server onto PATH)."""
    if found := shutil.which(name):
        return found
    if postgres := shutil.which("postgres"):
        for directory in {Path(postgres).parent, Path(postgres).resolve().parent}:
            if os.access(directory / name, os.X_OK):
                return str(directory / name)
    return None


@dataclass
class Server:
    url: str  # the superuser's, without the password
    password: str
    log_path: Path

    def admin(self):
        import psycopg

        params = parse_database_url(self.url, password=self.password)
        return psycopg.connect(
            host=params["HOST"],
            port=params["PORT"],
            user=params["USER"],
            password=params["PASSWORD"],
            dbname=params["NAME"],
            connect_timeout=5,
            autocommit=True,
        )

    def outcomes(self, user: str) -> list[str]:
        """SQLSTATEs the server logged for `user`'s connections, in order: 00000 when it
        authenticated one, the FATAL's code when it refused one (28P01: the password)."""
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [m[1] for m in map(_OUTCOME.match, lines) if m and m[2] == user]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    """initdb + pg_ctl start on a free port (scram-sha-256, random superuser password), as the
    `postgres` user when run as root (PostgreSQL refuses root); stopped and removed afterwards."""
    initdb, pg_ctl = _server_binary("initdb"), _server_binary("pg_ctl")
    require(bool(initdb and pg_ctl), "the PostgreSQL server binaries (initdb, pg_ctl) are missing")
    as_postgres: list[str] = []
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            require(False, "running as root and there is no `postgres` user to run the server")
        runuser = shutil.which("runuser")
        require(runuser is not None, "running as root and runuser is missing")
        as_postgres = [runuser, "-u", "postgres", "--"]

    def run(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*as_postgres, *args], cwd=root, capture_output=True, text=True, timeout=timeout
        )

    root = Path(tempfile.mkdtemp(prefix="creds-pg-"))
    data, log_path = root / "data", root / "server.log"
    password = token.token_urlsafe(24)
    try:
        pwfile = root / "superuser-password"
        pwfile.touch(mode=0o600)
        pwfile.write_text(password + "\n")
        if as_postgres:
            for path in (root, pwfile):
                shutil.chown(path, "postgres", "postgres")
        initialised = run(
            initdb, "-D", str(data), "--auth=scram-sha-256", "--username=postgres",
            f"--pwfile={pwfile}", "--encoding=UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        if initialised.returncode:
            pytest.fail(f"initdb failed:\n{initialised.stdout}{initialised.stderr}")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(_LOG_SETTINGS)
        for _ in range(3):  # another process may take the free port before the server does
            port = free_port()
            options = f"-p {port} -k {shlex.quote(str(root))} -c listen_addresses=127.0.0.1"
            started = run(pg_ctl, "-D", str(data), "-l", str(log_path), "-o", options,
                          "-w", "-t", "30", "start", timeout=45)  # fmt: skip
            if started.returncode == 0:
                break
        else:
            log = log_path.read_text(errors="replace") if log_path.exists() else ""
            pytest.fail(f"pg_ctl start failed:\n{started.stdout}{started.stderr}{log[-3000:]}")
        yield Server(f"postgres://postgres@127.0.0.1:{port}/postgres", password, log_path)
    finally:
        if (data / "postmaster.pid").exists():
            if run(pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop").returncode:
                run(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Role:
    name: str
    server: Server
    attempts: list[dict] = field(default_factory=list)  # what psycopg was asked to send

    def set_password(self, password: str) -> None:
        from psycopg import sql

        with self.server.admin() as admin:
            admin.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(self.name), sql.Literal(password)
                )
            )

    def wrapper(self, **overrides) -> backend.DatabaseWrapper:
        """A config.db connection to the private server (as its superuser unless overridden)."""
        return wrapper(self.server.url, **overrides)

    def outcomes(self) -> list[str]:
        return self.server.outcomes(self.name)


@pytest.fixture
def role(postgres_server, monkeypatch, django_db_blocker):
    """A private login role with password "A", dropped afterwards; records connect attempts."""
    import psycopg
    from psycopg import sql

    name = f"creds_{uuid.uuid4().hex[:12]}"
    ident = sql.Identifier(name)
    with postgres_server.admin() as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'A'").format(ident))
    current = Role(name, postgres_server)
    real_connect = psycopg.connect

    def connect(*args, **kwargs):  # observes only: the server decides
        if kwargs.get("user") == name:
            current.attempts.append({"password": kwargs.get("password")})
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(psycopg, "connect", connect)
    try:
        with django_db_blocker.unblock():
            yield current
    finally:
        with postgres_server.admin() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name]
            )
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(ident))


def connected_user(db) -> str:
    db.ensure_connection()
    try:
        with db.cursor() as cursor:
            cursor.execute("SELECT current_user")
            return cursor.fetchone()[0]
    finally:
        db.close()


def test_the_private_server_refuses_a_wrong_password(role):
    import psycopg

    params = parse_database_url(role.server.url)
    attempt = {"host": params["HOST"], "port": params["PORT"], "dbname": "postgres"}
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**attempt, user=role.name, password=ENV_PASSWORD, connect_timeout=5)
    with psycopg.connect(**attempt, user=role.name, password="A", connect_timeout=5) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role.name,)
    assert role.outcomes() == ["28P01", "00000"]


def test_a_new_connection_uses_the_secret_not_database_password(secrets, fetches, role):
    arn = make_secret(secrets, role.name, "A")
    db = role.wrapper(
        NAME="postgres", USER="someone-else", PASSWORD=ENV_PASSWORD, CREDENTIALS_ARN=arn
    )

    assert connected_user(db) == role.name
    assert role.attempts == [{"password": "A"}]
    assert role.outcomes() == ["00000"]
    assert role.server.outcomes("someone-else") == []
    assert fetches == [arn]


def test_a_rotation_costs_one_refresh_and_one_retry(secrets, fetches, role):
    arn = make_secret(secrets, role.name, "A")
    db = role.wrapper(NAME="postgres", PASSWORD=ENV_PASSWORD, CREDENTIALS_ARN=arn)
    assert connected_user(db) == role.name

    # What RDS does every 7 days: the role's password and the secret change together.
    role.set_password("B")
    rotate_secret(secrets, arn, role.name, "B")

    # Within the TTL the cached "A" is tried first, refused by the server (28P01), then the
    # secret is read again.
    assert connected_user(db) == role.name
    assert [a["password"] for a in role.attempts] == ["A", "A", "B"]
    assert role.outcomes() == ["00000", "28P01", "00000"]
    assert fetches == [arn, arn]
    # And the refreshed secret is cached again: the next connection goes straight in.
    assert connected_user(db) == role.name
    assert [a["password"] for a in role.attempts][3:] == ["B"]
    assert role.outcomes()[3:] == ["00000"]
    assert len(fetches) == 2


def test_a_secret_that_never_works_fails_after_exactly_one_retry(secrets, fetches, role):
    arn = make_secret(secrets, role.name, "never-the-password")
    db = role.wrapper(NAME="postgres", PASSWORD=ENV_PASSWORD, CREDENTIALS_ARN=arn)

    with pytest.raises(OperationalError, match="password authentication failed") as failure:
        db.ensure_connection()
    assert [a["password"] for a in role.attempts] == ["never-the-password"] * 2
    assert role.outcomes() == ["28P01", "28P01"]
    assert fetches == [arn, arn]
    # The retry's own error, raised outside the handler: the first refusal is not chained to it.
    assert failure.value.__cause__.__context__ is None


def test_other_connection_errors_propagate_without_a_retry(secrets, fetches, role):
    arn = make_secret(secrets, role.name, "A")
    db = role.wrapper(NAME=f"missing_{uuid.uuid4().hex[:8]}", CREDENTIALS_ARN=arn)

    with pytest.raises(OperationalError, match="does not exist"):
        db.ensure_connection()
    assert len(role.attempts) == 1
    assert role.outcomes() == ["00000", "3D000"]  # the password was fine, the database not
    assert fetches == [arn]


def test_an_unreadable_secret_falls_back_to_database_password(secrets, role, caplog):
    missing = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:missing-AbCdEf"
    db = role.wrapper(NAME="postgres", USER=role.name, PASSWORD="A", CREDENTIALS_ARN=missing)

    with caplog.at_level(logging.WARNING, logger="config.db.base"):
        assert connected_user(db) == role.name
    assert role.attempts == [{"password": "A"}]
    assert role.outcomes() == ["00000"]
    [record] = [r for r in caplog.records if r.name == "config.db.base"]
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING"
    assert line["secret_arn"] == missing
    assert line["error_code"] == "ResourceNotFoundException"
    assert '"A"' not in json.dumps(line) and "password" not in json.dumps(line)


# ---- Without PostgreSQL ----


def test_no_readable_secret_and_no_password_is_a_configuration_error(secrets, django_db_blocker):
    missing = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:missing-AbCdEf"
    db = wrapper(NAME="todo", HOST="127.0.0.1", PASSWORD="", CREDENTIALS_ARN=missing)
    with django_db_blocker.unblock(), pytest.raises(ImproperlyConfigured, match="CREDENTIALS_ARN"):
        db.ensure_connection()


def test_the_cache_ttl_is_honoured(secrets, fetches):
    arn = make_secret(secrets, "app", "A")

    cached = wrapper(NAME="todo", PASSWORD=ENV_PASSWORD, CREDENTIALS_ARN=arn)
    assert cached.get_connection_params()["password"] == "A"
    rotate_secret(secrets, arn, "app", "B")
    assert cached.get_connection_params()["password"] == "A"  # within the TTL: no new call
    assert cached.get_connection_params()["user"] == "app"
    assert len(fetches) == 1

    expired = wrapper(NAME="todo", CREDENTIALS_ARN=arn, CREDENTIALS_TTL=0)
    assert expired.get_connection_params()["password"] == "B"
    assert len(fetches) == 2


def test_without_the_arn_the_parameters_are_djangos(secrets, fetches):
    db = wrapper(NAME="todo", USER="app", PASSWORD=ENV_PASSWORD)
    params = db.get_connection_params()
    assert (params["user"], params["password"]) == ("app", ENV_PASSWORD)
    assert fetches == []


def test_threads_share_one_fetch(secrets, monkeypatch):
    arn = make_secret(secrets, "app", "A")
    calls = []

    def slow_fetch(arn):
        calls.append(arn)
        time.sleep(0.2)
        return {"user": "app", "password": "A"}

    monkeypatch.setattr(backend, "fetch_credentials", slow_fetch)
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(backend.credential_cache.get(arn, 300)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert results == [{"user": "app", "password": "A"}] * 8


@pytest.mark.parametrize(
    ("sqlstate", "message", "expected"),
    [
        ("28P01", "anything", True),
        (None, 'FATAL:  password authentication failed for user "app"', True),
        ("3D000", 'database "x" does not exist', False),
        (None, "connection refused", False),
    ],
)
def test_authentication_failures_are_recognised(sqlstate, message, expected):
    exc = Exception(message)
    exc.sqlstate = sqlstate
    assert backend.is_authentication_failure(exc) is expected


def _settings_databases(**env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            PYTHON,
            "-c",
            "import json; from django.conf import settings; "
            "print(json.dumps(settings.DATABASES['default'], default=str))",
        ],
        cwd=APP_DIR,
        env={
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "SECRET_KEY": "x" * 60,
            "DATABASE_URL": "postgres://app@db:5432/todo",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_pass_the_arn_and_ttl_to_the_backend():
    arn = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:rds!db-1234-AbCdEf"
    database = json.loads(_settings_databases(DATABASE_CREDENTIALS_ARN=arn).stdout)
    assert (database["ENGINE"], database["CREDENTIALS_ARN"]) == ("config.db", arn)
    assert database["CREDENTIALS_TTL"] == 300
    assert "CREDENTIALS_ARN" not in json.loads(_settings_databases().stdout)


def test_settings_reject_a_malformed_arn():
    result = _settings_databases(DATABASE_CREDENTIALS_ARN="rds-db-credentials")
    assert result.returncode != 0
    assert "DATABASE_CREDENTIALS_ARN" in result.stderr
