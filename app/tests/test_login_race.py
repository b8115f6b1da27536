"""Parallel login POSTs cannot all get a password check before the lockout applies.

Real gunicorn (several workers, several threads each) on PostgreSQL and Redis: many guesses
for one account leave the client at the same moment. Each attempt takes its ticket in Redis
before the password is checked, so exactly LOGIN_MAX_FAILURES of them are checked (answer
200, "wrong password") and every other one is refused unchecked (429). The server counts the
checks itself (tests/race_settings.py: Django's hasher, counting in Redis). The control run
uses django-axes' stock cache handler, which compares before it counts: there the same burst
gets more password checks than the limit, which is the race this design closes.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import subprocess
import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest

from tests.helpers import (
    APP_DIR,
    PYTHON,
    free_port,
    postgres_url,
    require,
    scratch_postgres_database,
    stop_process_group,
    wait_for_port,
)

pytestmark = pytest.mark.slow

LIMIT = 3
BURST = 24
PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    require(postgres_url() is not None, "DATABASE_URL does not point at PostgreSQL")
    require(bool(os.environ.get("REDIS_URL")), "REDIS_URL is not set")
    with scratch_postgres_database("todo_race") as url:
        # The manifest storage needs collectstatic's manifest to render a page, as in the image.
        server = Server(url, str(tmp_path_factory.mktemp("race-static")))
        env = _env(server)
        _manage(env, "collectstatic", "--no-input", "-v", "0")
        _manage(env, "migrate", "--no-input", "-v", "0")
        _manage(
            {**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            "createsuperuser", "--no-input", "--username", "target", "--email", "t@example.com",
        )  # fmt: skip
        yield server


@dataclass(frozen=True)
class Gunicorn:
    port: int
    cache_prefix: str

    def password_checks(self) -> int:
        import redis

        key = f"{self.cache_prefix}:password-checks"
        return int(redis.Redis.from_url(os.environ["REDIS_URL"]).get(key) or 0)


@dataclass(frozen=True)
class Server:
    database_url: str
    static_root: str


def _env(server: Server, handler: str = "") -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.race_settings",
        "RACE_AXES_HANDLER": handler,
        "DATABASE_URL": server.database_url,
        "STATIC_ROOT": server.static_root,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "HTTPS": "0",
        "SECURE_SSL_REDIRECT": "0",
        "LOGIN_MAX_FAILURES": str(LIMIT),
        "CACHE_KEY_PREFIX": f"{os.environ.get('CACHE_KEY_PREFIX', 'test')}-race-{uuid.uuid4().hex}",
    }


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args], cwd=APP_DIR, env=env, check=True, capture_output=True,
        timeout=180,
    )  # fmt: skip


@contextlib.contextmanager
def gunicorn(server: Server, handler: str = ""):
    port = free_port()
    env = {
        **_env(server, handler),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "3",
        "GUNICORN_THREADS": "4",
    }
    proc = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "--config", "gunicorn.conf.py", "config.wsgi"],
        cwd=APP_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for_port(port, timeout=60)
        yield Gunicorn(port, env["CACHE_KEY_PREFIX"])
    finally:
        stop_process_group(proc)


def _request(port: int, method: str, path: str, body: str | None = None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.getheader("Set-Cookie") or "", response.read().decode()
    finally:
        conn.close()


def burst(port: int, password: str) -> Counter:
    """BURST login POSTs for one account, released together; their status codes."""
    status, cookie, page = _request(port, "GET", "/accounts/login/")
    assert status == 200, page[-2000:]
    csrf_cookie = re.search(r"csrftoken=([^;]+)", cookie).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urlencode({"username": "target", "password": password, "csrfmiddlewaretoken": token})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={csrf_cookie}",
    }
    start = threading.Barrier(BURST)
    statuses: list[int] = []

    def attempt() -> None:
        start.wait()
        statuses.append(_request(port, "POST", "/accounts/login/", body, headers)[0])

    threads = [threading.Thread(target=attempt) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


def test_a_burst_gets_exactly_the_limit_of_password_checks(database):
    with gunicorn(database) as server:
        guesses = burst(server.port, "wrong")
        assert server.password_checks() == LIMIT
        assert guesses == {200: LIMIT, 429: BURST - LIMIT}, guesses
        # And the right password, even in a burst, is refused unchecked while locked out.
        assert burst(server.port, PASSWORD) == {429: BURST}
        assert server.password_checks() == LIMIT


def test_control_the_stock_compare_then_count_handler_lets_a_burst_through(database):
    with gunicorn(database, "axes.handlers.cache.AxesCacheHandler") as server:
        burst(server.port, "wrong")
        checks = server.password_checks()
    print(f"stock handler: {checks} password checks for a burst of {BURST}, limit {LIMIT}")
    assert checks > LIMIT, f"expected the race to show, got {checks} checks"
