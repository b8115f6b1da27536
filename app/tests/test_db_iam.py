"""The app logs in to PostgreSQL with IAM tokens, as its own least-privilege role.

PostgreSQL is the private server that checks passwords (tests/private_postgres.py): the server
itself shows that the password the backend sent is the token. The signer is faked where the
server must know the token in advance; boto3's real signer is checked on its own (it signs
locally, with fake credentials, and calls nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import OperationalError
from psycopg import sql

from config.db import iam
from config.env import parse_database_url
from tests.helpers import APP_DIR, PYTHON, database_settings
from tests.private_postgres import connected_user

REGION = "ap-northeast-1"


@pytest.fixture
def signer(monkeypatch):
    """A fake signer: token-1, token-2, ... and the calls it got."""
    calls: list[tuple] = []

    def sign(host, port, user, region):
        calls.append((host, int(port), user, region))
        return f"token-{len(calls)}"

    monkeypatch.setattr(iam, "auth_token", sign)
    return calls


def iam_wrapper(role, **overrides):
    server = parse_database_url(role.server.url)
    return role.wrapper(
        NAME="postgres",
        USER=role.name,
        PASSWORD="a-password-from-the-environment",  # never sent: the token replaces it
        IAM_AUTH=True,
        IAM_REGION=REGION,
        **overrides,
    ), (server["HOST"], int(server["PORT"]))


# ---- The token is the password, fresh for every new connection ----


def test_each_new_connection_sends_a_fresh_token_as_its_password(role, signer):
    db, (host, port) = iam_wrapper(role)

    role.set_password("token-1")
    assert connected_user(db) == role.name
    role.set_password("token-2")
    assert connected_user(db) == role.name

    assert [a["password"] for a in role.attempts] == ["token-1", "token-2"]
    assert role.outcomes() == ["00000", "00000"]  # the server accepted each token
    assert signer == [(host, port, role.name, REGION)] * 2


def test_a_token_the_server_does_not_accept_is_refused(role, signer):
    db, _ = iam_wrapper(role)
    role.set_password("token-1")
    assert connected_user(db) == role.name

    # The next connection signs token-2; the server still expects token-1.
    with pytest.raises(OperationalError, match="password authentication failed"):
        db.ensure_connection()
    assert role.outcomes() == ["00000", "28P01"]
    assert [a["password"] for a in role.attempts] == ["token-1", "token-2"]


def test_boto3_signs_a_connect_token_for_the_host_port_user_and_region(aws_credentials):
    host = "todo-dev-data-db-main-rds.abc123.ap-northeast-1.rds.amazonaws.com"
    token = iam.auth_token(host, 5432, "todo_app", REGION)

    parts = urlsplit(f"https://{token}")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert (parts.hostname, parts.port) == (host, 5432)
    assert query["Action"] == "connect"
    assert query["DBUser"] == "todo_app"
    assert query["X-Amz-Expires"] == "900"  # RDS accepts a token for 15 minutes
    assert query["X-Amz-Credential"].startswith("AKIDTESTING/")
    assert query["X-Amz-Credential"].endswith(f"/{REGION}/rds-db/aws4_request")
    assert query["X-Amz-Security-Token"] == "session-testing"
    assert len(query["X-Amz-Signature"]) == 64


# ---- Settings ----

VERIFIED = "sslmode=verify-full&sslrootcert=/etc/ssl/certs/rds-global-bundle.pem"


def test_settings_turn_iam_auth_on_with_a_verified_tls_url():
    result = database_settings(
        DATABASE_URL=f"postgres://todo_app@db.example:5432/todo?{VERIFIED}",
        DATABASE_IAM_AUTH="1",
        AWS_REGION=REGION,
    )
    database = json.loads(result.stdout)
    assert (database["IAM_AUTH"], database["IAM_REGION"]) == (True, REGION)
    assert database["OPTIONS"]["sslmode"] == "verify-full"
    assert "CREDENTIALS_ARN" not in database


@pytest.mark.parametrize(
    ("url", "extra", "message"),
    [
        ("postgres://todo_app@db/todo?sslmode=require", {}, "sslmode=verify-full"),
        ("postgres://todo_app@db/todo?sslmode=verify-full", {}, "sslrootcert"),
        (f"postgres://todo_app@db/todo?{VERIFIED}", {"AWS_REGION": ""}, "AWS_REGION"),
        (
            f"postgres://todo_app@db/todo?{VERIFIED}",
            {"DATABASE_CREDENTIALS_ARN": f"arn:aws:secretsmanager:{REGION}:1:secret:x"},
            "not both",
        ),
    ],
)
def test_settings_refuse_iam_auth_without_what_it_needs(url, extra, message):
    env = {"DATABASE_URL": url, "DATABASE_IAM_AUTH": "1", "AWS_REGION": REGION, **extra}
    result = database_settings(**env)
    assert result.returncode != 0
    assert message in result.stderr


# ---- The migration creates the app's role, and the app's tables belong to it ----

MIGRATE_AS_MASTER = textwrap.dedent(
    """
    import json, os
    import boto3
    from moto import mock_aws

    with mock_aws():
        # RDS's managed master secret, as the migration task reads it.
        secret = json.dumps({"username": "postgres", "password": os.environ["MASTER_PASSWORD"]})
        client = boto3.client("secretsmanager", region_name="ap-northeast-1")
        arn = client.create_secret(Name="rds-master", SecretString=secret)["ARN"]
        os.environ["DATABASE_CREDENTIALS_ARN"] = arn
        import django
        django.setup()
        from django.core.management import call_command
        call_command("migrate", "--no-input", verbosity=0)
    """
)


@pytest.fixture
def app_database(postgres_server):
    """A fresh database, an `rds_iam` role as RDS has, a schema the app must not read, and an
    app role name; all dropped afterwards."""
    name, app_role = f"iam_{uuid.uuid4().hex[:10]}", f"app_{uuid.uuid4().hex[:10]}"
    with postgres_server.admin() as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'").fetchone():
            admin.execute("CREATE ROLE rds_iam NOLOGIN")
    with postgres_server.admin(name) as admin:
        admin.execute("CREATE SCHEMA audit")
        admin.execute("CREATE TABLE audit.secrets (value text)")
    try:
        yield name, app_role
    finally:
        with postgres_server.admin() as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))  # fmt: skip
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(app_role)))


def migrate(postgres_server, database: str, user: str) -> subprocess.CompletedProcess:
    url = parse_database_url(postgres_server.url)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "x" * 60,
        "DATABASE_URL": f"postgres://{user}@{url['HOST']}:{url['PORT']}/{database}",
        # A plain run (user == master) takes the password from here; the master run from
        # the secret.
        "DATABASE_PASSWORD": postgres_server.password,
        "MASTER_PASSWORD": postgres_server.password,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }
    script = (
        MIGRATE_AS_MASTER
        if user != "postgres"
        else "import django; django.setup(); "
        "from django.core.management import call_command; call_command('migrate', verbosity=0)"
    )
    result = subprocess.run(
        [PYTHON, "-c", script], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def owners(postgres_server, database: str) -> dict[str, str]:
    with postgres_server.admin(database) as admin:
        rows = admin.execute(
            """SELECT c.relname, pg_get_userbyid(c.relowner) FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v', 'm', 'p')"""
        ).fetchall()
    return dict(rows)


def provisioned(result) -> dict:
    [line] = [json.loads(x) for x in result.stdout.splitlines() if '"event": "app_role"' in x]
    return line


@pytest.mark.slow
def test_migration_as_master_creates_the_role_and_migrates_as_it(postgres_server, app_database):
    database, app_role = app_database
    result = migrate(postgres_server, database, app_role)

    assert provisioned(result)["role_created"] is True
    assert provisioned(result)["tables_adopted"] == []  # created as the app's role, not handed over
    tables = owners(postgres_server, database)
    assert {"todo_todo", "auth_user", "django_session", "django_migrations"} <= set(tables)
    assert set(tables.values()) == {app_role}

    with postgres_server.admin(database) as admin:
        role = admin.execute(
            """SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication,
                      pg_has_role(rolname, 'rds_iam', 'MEMBER')
               FROM pg_roles WHERE rolname = %s""",
            [app_role],
        ).fetchone()
    assert role == (True, False, False, False, False, True)

    # Idempotent: the next deploy's migration changes nothing.
    again = migrate(postgres_server, database, app_role)
    assert provisioned(again)["role_created"] is False
    assert owners(postgres_server, database) == tables


@pytest.mark.slow
def test_tables_an_older_deploy_created_as_master_are_handed_over(postgres_server, app_database):
    database, app_role = app_database
    migrate(postgres_server, database, "postgres")  # before: everything owned by the master
    assert set(owners(postgres_server, database).values()) == {"postgres"}

    result = migrate(postgres_server, database, app_role)
    assert "todo_todo" in provisioned(result)["tables_adopted"]
    assert set(owners(postgres_server, database).values()) == {app_role}


@pytest.mark.slow
def test_the_app_role_reaches_its_tables_and_nothing_else(postgres_server, app_database):
    import psycopg

    database, app_role = app_database
    migrate(postgres_server, database, app_role)
    with postgres_server.admin(database) as admin:
        admin.execute(sql.SQL("ALTER ROLE {} PASSWORD 'token-1'").format(sql.Identifier(app_role)))

    url = parse_database_url(postgres_server.url)
    with psycopg.connect(
        host=url["HOST"], port=url["PORT"], dbname=database, user=app_role,
        password="token-1", autocommit=True, connect_timeout=5,
    ) as app:  # fmt: skip
        assert app.execute("SELECT count(*) FROM todo_todo").fetchone() == (0,)
        app.execute("ALTER TABLE todo_todo ADD COLUMN extra int")  # owner: may migrate
        for statement in (
            "SELECT * FROM audit.secrets",
            f'CREATE DATABASE "x_{app_role}"',
            f'CREATE ROLE "x_{app_role}"',
            "CREATE SCHEMA elsewhere",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                app.execute(statement)
