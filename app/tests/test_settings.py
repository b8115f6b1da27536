"""Settings are read once at import, so each case imports them in a fresh interpreter."""

import json
import os
import subprocess

import pytest

from tests.helpers import APP_DIR, PYTHON

PRINT_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "CONN_MAX_AGE": settings.DATABASES["default"].get("CONN_MAX_AGE"),
    "CONN_HEALTH_CHECKS": settings.DATABASES["default"].get("CONN_HEALTH_CHECKS"),
    "CACHE": settings.CACHES["default"]["BACKEND"],
    "SESSION_ENGINE": settings.SESSION_ENGINE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "SECURE_HSTS_SECONDS": settings.SECURE_HSTS_SECONDS,
    "SECURE_HSTS_PRELOAD": settings.SECURE_HSTS_PRELOAD,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "FIRST_APP": settings.INSTALLED_APPS[0],
    "FIRST_MIDDLEWARE": settings.MIDDLEWARE[0],
}))
"""

BASE_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": "x" * 60,
}


def load_settings(**env):
    result = subprocess.run(
        [PYTHON, "-c", PRINT_SETTINGS],
        cwd=APP_DIR,
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result, (json.loads(result.stdout) if result.returncode == 0 else None)


def test_debug_is_off_by_default():
    _, settings = load_settings()
    assert settings["DEBUG"] is False


@pytest.mark.parametrize("raw", ["0", "false"])
def test_debug_zero_or_false_means_off(raw):
    _, settings = load_settings(DEBUG=raw)
    assert settings["DEBUG"] is False


def test_missing_secret_key_with_debug_off_fails_clearly():
    env = {k: v for k, v in BASE_ENV.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [PYTHON, "-c", PRINT_SETTINGS],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_on_allows_a_dev_key():
    env = {k: v for k, v in BASE_ENV.items() if k != "SECRET_KEY"}
    result = subprocess.run(
        [PYTHON, "-c", PRINT_SETTINGS],
        cwd=APP_DIR,
        env={**env, "DEBUG": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["DEBUG"] is True


def test_embedded_defaults_without_urls():
    _, settings = load_settings()
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["CACHE"] == "django.core.cache.backends.locmem.LocMemCache"
    assert settings["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"


def test_postgres_and_redis_when_urls_are_set():
    _, settings = load_settings(
        DATABASE_URL="postgres://u@db:5432/todo", REDIS_URL="redis://cache:6379/0"
    )
    assert settings["ENGINE"] == "config.db"
    assert settings["CONN_MAX_AGE"] > 0
    assert settings["CONN_HEALTH_CHECKS"] is True
    # Django's Redis backend, tolerant of an unreachable server (config/cache.py).
    assert settings["CACHE"] == "config.cache.ResilientRedisCache"


def test_production_security_defaults():
    _, settings = load_settings(ALLOWED_HOSTS="todo.example.com")
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert settings["ALLOWED_HOSTS"] == ["todo.example.com"]


def test_hsts_preload_is_opt_in():
    """Preloading binds the domain and every subdomain to HTTPS in browsers for months: the
    owner asks for it; it is never a default."""
    _, settings = load_settings(ALLOWED_HOSTS="todo.example.com")
    assert settings["SECURE_HSTS_PRELOAD"] is False
    _, settings = load_settings(ALLOWED_HOSTS="todo.example.com", SECURE_HSTS_PRELOAD="1")
    assert settings["SECURE_HSTS_PRELOAD"] is True


def test_ssl_redirect_can_be_turned_off_with_zero():
    _, settings = load_settings(SECURE_SSL_REDIRECT="0")
    assert settings["SECURE_SSL_REDIRECT"] is False


def test_http_only_environment_turns_off_redirect_hsts_and_secure_cookies():
    _, settings = load_settings(HTTPS="0")
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert settings["SECURE_HSTS_SECONDS"] == 0
    assert settings["SESSION_COOKIE_SECURE"] is False


def test_app_comes_first_so_its_migrate_command_wins():
    _, settings = load_settings()
    assert settings["FIRST_APP"] == "todo"
    assert settings["FIRST_MIDDLEWARE"] == "todo.middleware.HealthCheckMiddleware"


def test_migrate_command_is_the_locking_one():
    from django.core.management import get_commands

    assert get_commands()["migrate"] == "todo"
