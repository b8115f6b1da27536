"""A private PostgreSQL server that checks passwords (scram-sha-256 everywhere).

The shared DATABASE_URL server may trust its clients and accept any password; this one refuses
a wrong password itself, as RDS does. initdb + pg_ctl from PATH, on a free port, as the
`postgres` user when run as root (PostgreSQL refuses root). The server's log (SQLSTATE in each
line) shows what the server made of every connection attempt.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets as token
import shlex
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection

from config.db import base as backend
from config.env import parse_database_url
from tests.helpers import free_port, require

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

    def admin(self, dbname: str | None = None):
        """The superuser's autocommit connection, to `dbname` (default: the URL's)."""
        import psycopg

        params = parse_database_url(self.url, password=self.password)
        return psycopg.connect(
            host=params["HOST"],
            port=params["PORT"],
            user=params["USER"],
            password=params["PASSWORD"],
            dbname=dbname or params["NAME"],
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


# ---- Connections through the app's backend, and a role per test ----


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
