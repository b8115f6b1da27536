"""config.db: database credentials from Secrets Manager, refreshed when RDS rotates them.

Secrets Manager is moto's. PostgreSQL is a private server that checks passwords
(tests/private_postgres.py), so a wrong password is refused by the server itself, as RDS does
after a rotation. Each test gets its own role, whose password it changes as RDS would.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
import uuid

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import OperationalError
from moto import mock_aws

from config.db import base as backend
from config.env import parse_database_url
from config.logging import JsonFormatter
from tests.helpers import database_settings
from tests.private_postgres import connected_user, wrapper

# Not the environment's region: the backend must take the region from the ARN.
REGION = "ap-northeast-1"
ENV_PASSWORD = "database-password-from-the-task-environment"


@pytest.fixture
def secrets(aws_credentials):
    """moto's Secrets Manager, fake credentials (boto3 never looks for real ones), empty cache."""
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


# ---- A private PostgreSQL that checks passwords (tests/private_postgres.py) ----


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
    return database_settings(DATABASE_URL="postgres://app@db:5432/todo", **env)


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
