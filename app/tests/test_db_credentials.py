"""config.db: database credentials from Secrets Manager, refreshed when RDS rotates them.

Secrets Manager is moto's; PostgreSQL is the real one from DATABASE_URL, with a private role
whose password the tests change as RDS would. A server that trusts the test client (pg_hba
`trust`, as local and CI servers often do) accepts any password, so there the refusal of a
wrong one is reproduced in front of psycopg, judged against the verifier the server itself
stores for the role (pg_authid): ALTER ROLE ... PASSWORD still decides.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError, connection
from moto import mock_aws

from config.db import base as backend
from config.env import parse_database_url
from config.logging import JsonFormatter
from tests.helpers import APP_DIR, PYTHON, postgres_url, require

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


def wrapper(**overrides) -> backend.DatabaseWrapper:
    """A connection through config.db, configured like the app's (defaults filled in)."""
    settings_dict = {
        **connection.settings_dict,
        "ENGINE": "config.db",
        "OPTIONS": dict(connection.settings_dict["OPTIONS"]),
        "CONN_MAX_AGE": 0,
        "CREDENTIALS_TTL": 300,
        **overrides,
    }
    return backend.DatabaseWrapper(settings_dict, alias=f"creds-{uuid.uuid4().hex[:6]}")


# ---- The real PostgreSQL ----


def _admin_params() -> dict:
    params = parse_database_url(postgres_url() or "", password=os.environ.get("DATABASE_PASSWORD"))
    return {
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
        "user": params["USER"] or None,
        "password": params["PASSWORD"] or None,
        "dbname": "postgres",
        "connect_timeout": 5,
        "autocommit": True,
    }


def _password_matches(verifier: str, role: str, password: str) -> bool:
    """Checks a password against pg_authid.rolpassword, as the server's SCRAM or md5 would."""
    if verifier.startswith("md5"):
        return verifier == "md5" + hashlib.md5((password + role).encode()).hexdigest()  # noqa: S324
    iterations_salt, keys = verifier.split("$", 1)[1].split("$")
    iterations, salt = iterations_salt.split(":")
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return hmac.compare_digest(
        hashlib.sha256(client_key).digest(), base64.b64decode(keys.split(":")[0])
    )


@dataclass
class Role:
    name: str
    server_checks_passwords: bool
    attempts: list[dict]

    def set_password(self, password: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(**_admin_params()) as admin:
            admin.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(self.name), sql.Literal(password)
                )
            )

    def accepts(self, password: str | None) -> bool:
        import psycopg

        with psycopg.connect(**_admin_params()) as admin:
            row = admin.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = %s", [self.name]
            ).fetchone()
        return bool(row and row[0] and password and _password_matches(row[0], self.name, password))


@pytest.fixture
def role(monkeypatch, django_db_blocker):
    """A private login role with password "A", dropped afterwards; records connect attempts."""
    require(postgres_url() is not None, "DATABASE_URL does not point at PostgreSQL")
    import psycopg
    from psycopg import sql

    name = f"creds_{uuid.uuid4().hex[:12]}"
    ident = sql.Identifier(name)
    with psycopg.connect(**_admin_params()) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'A'").format(ident))
    try:
        probe = {**_admin_params(), "user": name, "password": f"wrong-{uuid.uuid4().hex}"}
        try:
            psycopg.connect(**probe).close()
            checks = False
        except psycopg.OperationalError as exc:
            if not backend.is_authentication_failure(exc):
                raise
            checks = True
        current = Role(name, checks, [])
        real_connect = psycopg.connect

        def connect(*args, **kwargs):
            if kwargs.get("user") == name:
                current.attempts.append({"password": kwargs.get("password")})
                if not checks and not current.accepts(kwargs.get("password")):
                    raise psycopg.OperationalError(
                        f'connection failed: connection to server at "{kwargs.get("host")}", '
                        f"port {kwargs.get('port')} failed: FATAL:  password authentication "
                        f'failed for user "{name}"'
                    )
            return real_connect(*args, **kwargs)

        monkeypatch.setattr(psycopg, "connect", connect)
        with django_db_blocker.unblock():
            yield current
    finally:
        with psycopg.connect(**_admin_params()) as admin:
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


def test_a_new_connection_uses_the_secret_not_database_password(secrets, fetches, role):
    arn = make_secret(secrets, role.name, "A")
    db = wrapper(NAME="postgres", USER="someone-else", PASSWORD=ENV_PASSWORD, CREDENTIALS_ARN=arn)

    assert connected_user(db) == role.name
    assert role.attempts == [{"password": "A"}]
    assert fetches == [arn]


def test_a_rotation_costs_one_refresh_and_one_retry(secrets, fetches, role):
    arn = make_secret(secrets, role.name, "A")
    db = wrapper(NAME="postgres", PASSWORD=ENV_PASSWORD, CREDENTIALS_ARN=arn)
    assert connected_user(db) == role.name

    # What RDS does every 7 days: the role's password and the secret change together.
    role.set_password("B")
    rotate_secret(secrets, arn, role.name, "B")

    # Within the TTL the cached "A" is tried first, refused, then the secret is read again.
    assert connected_user(db) == role.name
    assert [a["password"] for a in role.attempts] == ["A", "A", "B"]
    assert fetches == [arn, arn]
    # And the refreshed secret is cached again: the next connection goes straight in.
    assert connected_user(db) == role.name
    assert [a["password"] for a in role.attempts][3:] == ["B"]
    assert len(fetches) == 2


def test_a_secret_that_never_works_fails_after_exactly_one_retry(secrets, fetches, role):
    arn = make_secret(secrets, role.name, "never-the-password")
    db = wrapper(NAME="postgres", PASSWORD=ENV_PASSWORD, CREDENTIALS_ARN=arn)

    with pytest.raises(OperationalError, match="password authentication failed"):
        db.ensure_connection()
    assert [a["password"] for a in role.attempts] == ["never-the-password"] * 2
    assert fetches == [arn, arn]


def test_other_connection_errors_propagate_without_a_retry(secrets, fetches, role):
    arn = make_secret(secrets, role.name, "A")
    db = wrapper(NAME=f"missing_{uuid.uuid4().hex[:8]}", CREDENTIALS_ARN=arn)

    with pytest.raises(OperationalError, match="does not exist"):
        db.ensure_connection()
    assert len(role.attempts) == 1
    assert fetches == [arn]


def test_an_unreadable_secret_falls_back_to_database_password(secrets, role, caplog):
    missing = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:missing-AbCdEf"
    db = wrapper(NAME="postgres", USER=role.name, PASSWORD="A", CREDENTIALS_ARN=missing)

    with caplog.at_level(logging.WARNING, logger="config.db.base"):
        assert connected_user(db) == role.name
    assert role.attempts == [{"password": "A"}]
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
