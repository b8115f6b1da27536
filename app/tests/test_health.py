import json
import shutil
import subprocess
import time

import pytest
from django.db import connections
from django.test import override_settings

from tests.helpers import free_port, require, stop_process_group, wait_for_port
from todo import health

pytestmark = pytest.mark.django_db


def test_liveness_says_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_liveness_touches_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get("/healthz").status_code == 200


def test_readiness_is_200_when_database_and_cache_are_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok"},
        "failed": [],
    }


@override_settings(DEBUG=False, ALLOWED_HOSTS=["todo.example.com"])
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_answers_an_ip_host_header_with_debug_off(client, path):
    # The ALB's health check sends the task's private IP as Host.
    response = client.get(path, HTTP_HOST="10.0.12.34:8080")
    assert response.status_code == 200


@override_settings(DEBUG=False, ALLOWED_HOSTS=["todo.example.com"])
def test_other_pages_still_reject_an_unknown_host(client):
    assert client.get("/accounts/login/", HTTP_HOST="10.0.12.34").status_code == 400


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["todo.example.com"])
def test_health_is_not_redirected_to_https(client):
    assert client.get("/healthz", HTTP_HOST="todo.example.com").status_code == 200
    login = client.get("/accounts/login/", HTTP_HOST="todo.example.com")
    assert login.status_code == 301
    assert login["Location"] == "https://todo.example.com/accounts/login/"


@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["todo.example.com"])
def test_forwarded_https_is_not_redirected(client):
    response = client.get(
        "/accounts/login/", HTTP_HOST="todo.example.com", HTTP_X_FORWARDED_PROTO="https"
    )
    assert response.status_code == 200


def test_readiness_is_503_naming_the_database_when_it_is_down(client, monkeypatch):
    broken = connections.create_connection("default")
    if broken.vendor == "postgresql":
        # Nothing listens there: a refused connection, bounded by connect_timeout anyway.
        broken.settings_dict = {**broken.settings_dict, "HOST": "127.0.0.1", "PORT": free_port()}
    else:
        broken.settings_dict = {**broken.settings_dict, "NAME": "/nonexistent-dir/db.sqlite3"}
    monkeypatch.setattr(health, "connections", {"default": broken})
    started = time.monotonic()
    response = client.get("/readyz")
    assert time.monotonic() - started < 10
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["failed"] == ["database"]
    assert body["checks"]["cache"] == "ok"


def test_readiness_is_503_naming_the_cache_when_redis_stops(client, settings, tmp_path):
    server = shutil.which("redis-server")
    require(server is not None, "redis-server is not installed")
    port = free_port()
    # A private Redis for this test alone: stopping it never disturbs a shared service.
    proc = subprocess.Popen(
        [
            server,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port)
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{port}/0",
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        assert client.get("/readyz").status_code == 200
        stop_process_group(proc)
        started = time.monotonic()
        response = client.get("/readyz")
        assert time.monotonic() - started < 10
        assert response.status_code == 503
        assert response.json()["failed"] == ["cache"]
        assert response.json()["checks"]["database"] == "ok"
    finally:
        stop_process_group(proc)
