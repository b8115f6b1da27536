"""Faults the serving stack must survive, on servers of the tests' own.

nginx + gunicorn run as `make serve` runs them (scripts/serve.sh: the images' config files),
against a private PostgreSQL and a private Redis that these tests stop and start again. Every
wait is bounded; nothing here asserts a speed beyond the bounds the behaviour itself promises
(readiness answers 503 within 5 s of losing the database).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from tests.conftest import PASSWORD, _nginx_available
from tests.helpers import (
    APP_DIR,
    PYTHON,
    free_port,
    gunicorn_port,
    require,
    start_serve,
    stop_process_group,
    wait_for_port,
)
from tests.private_services import PrivatePostgres, PrivateRedis
from tests.test_stack_e2e import Browserless, csrf_token

pytestmark = pytest.mark.slow

STATE_WAIT = 30  # seconds: any state change below is expected far sooner


@dataclass
class FaultStack:
    base_url: str
    proc: subprocess.Popen
    postgres: PrivatePostgres
    redis: PrivateRedis
    log_path: object
    db_url: str
    app_url: str  # gunicorn itself: /readyz is answered only inside the task (nginx says 404)

    def status(self, path: str, client: Browserless | None = None) -> tuple[int, str]:
        if client is None:
            client = Browserless(self.app_url if path.startswith("/readyz") else self.base_url)
        response, body = client.request("GET", path)
        return response.status, body

    def wait_for(self, path: str, status: int, within: float = STATE_WAIT) -> str:
        """Polls path until it answers `status`; fails naming the last answer otherwise."""
        deadline = time.monotonic() + within
        last = None
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                last = self.status(path)
                if last[0] == status:
                    return last[1]
            time.sleep(0.1)
        pytest.fail(f"{path} did not answer {status} within {within} s (last: {last})")

    def gunicorn_pids(self) -> set[int]:
        found = subprocess.run(
            ["pgrep", "-g", str(self.proc.pid), "-f", "gunicorn"], capture_output=True, text=True
        )
        return {int(pid) for pid in found.stdout.split()}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _login(self, username: str) -> tuple[Browserless, int]:
        client = Browserless(self.base_url)
        response, page = client.request("GET", "/accounts/login/")
        if response.status != 200:
            return client, response.status
        response, _ = client.request(
            "POST",
            "/accounts/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(page)},
        )
        return client, response.status

    def login(self, username: str) -> Browserless:
        client, status = self._login(username)
        assert status == 302, f"login as {username} failed: {status}"
        return client

    def try_login(self, username: str) -> bool:
        with contextlib.suppress(OSError):
            return self._login(username)[1] == 302
        return False


def _manage(env: dict, *args: str) -> None:
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=APP_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=180,
    )


@pytest.fixture(scope="module")
def fault_stack(tmp_path_factory):
    require(_nginx_available(), "nginx is not installed")
    workdir = tmp_path_factory.mktemp("faults")
    postgres, redis = PrivatePostgres(), PrivateRedis()
    proc = None
    try:
        postgres.start()
        redis.start()
        import psycopg

        with psycopg.connect(postgres.url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("CREATE DATABASE todo")
        db_url = postgres.url.rsplit("/", 1)[0] + "/todo"
        app_port = gunicorn_port()
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "REDIS_URL": redis.url,
            "CACHE_KEY_PREFIX": "fault",
            "PORT": str(free_port(avoid=(app_port, app_port + 1))),
            "GUNICORN_PORT": str(app_port),
            "GUNICORN_WORKERS": "2",
            # Short bounds, so each outage is noticed (and left alone) quickly.
            "DATABASE_CONNECT_TIMEOUT": "2",
            "DATABASE_RETRY_SECONDS": "1",
            "REDIS_CONNECT_TIMEOUT": "1",
            "REDIS_SOCKET_TIMEOUT": "1",
            "REDIS_RETRY_SECONDS": "1",
            "DATA_DIR": str(workdir),
            "STATIC_ROOT": str(workdir / "static"),
            "TMPDIR": str(workdir),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "localhost,127.0.0.1",
            "PYTHON": PYTHON,
        }
        _manage(env, "migrate", "--no-input", "-v", "0")
        for username in ("reader", "writer", "leaver"):
            _manage(
                {**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
                "createsuperuser", "--no-input", "--username", username,
                "--email", f"{username}@example.com",
            )  # fmt: skip
        log_path = workdir / "serve.log"
        proc = start_serve(env, log_path)
        stack = FaultStack(
            f"http://localhost:{env['PORT']}",
            proc,
            postgres,
            redis,
            log_path,
            db_url,
            app_url=f"http://127.0.0.1:{env['GUNICORN_PORT']}",
        )
        stack.wait_for("/readyz", 200, within=90)
        yield stack
    finally:
        if proc:
            stop_process_group(proc)
        redis.remove()
        postgres.remove()


# ---- Database outage ----


def test_database_outage_is_a_503_page_then_recovers_without_a_restart(fault_stack):
    reader = fault_stack.login("reader")
    assert fault_stack.status("/", reader)[0] == 200
    workers = fault_stack.gunicorn_pids()

    fault_stack.postgres.stop("fast")
    try:
        # Readiness says so within 5 s of the database going away.
        body = fault_stack.wait_for("/readyz", 503, within=5)
        assert '"database": "fail"' in body
        # A page seen before still answers from the cache (no write can have changed it);
        # one that reads the database (a TODO's edit form) is the friendly 503 page.
        assert fault_stack.status("/", reader)[0] == 200
        status, page = fault_stack.status("/todos/1/edit/", reader)
        assert status == 503
        assert "ただいま一時的にご利用いただけません" in page
        for leak in ("Traceback", "OperationalError", "psycopg", 'File "'):
            assert leak not in page
    finally:
        fault_stack.postgres.start()

    fault_stack.wait_for("/readyz", 200)
    # Each worker tries the database again once its own retry time (about 1 s here) is over.
    # The list page may answer from the cache before that, so recovery is shown by what must
    # reach the database: a fresh login (user lookup, new session), several times in a row so
    # that both workers have taken one.
    deadline = time.monotonic() + STATE_WAIT
    streak = 0
    while streak < 6:
        assert time.monotonic() < deadline, "logging in still fails after the database is back"
        streak = streak + 1 if fault_stack.try_login("reader") else 0
        time.sleep(0.1)
    assert fault_stack.status("/", reader)[0] == 200
    assert fault_stack.gunicorn_pids() == workers, "gunicorn or a worker was restarted"


# ---- Cache outage ----


def test_cache_outage_keeps_pages_working_and_recovers(fault_stack):
    reader = fault_stack.login("reader")
    leaver = fault_stack.login("leaver")
    assert fault_stack.status("/", reader)[0] == 200
    log_start = len(fault_stack.log())

    fault_stack.redis.stop()
    try:
        body = fault_stack.wait_for("/readyz", 503)
        assert '"cache": "fail"' in body and '"database": "ok"' in body
        # Sessions come from the database: logged-in pages keep working, every time.
        for _ in range(10):
            assert fault_stack.status("/", reader)[0] == 200
        # Logging in and out work too.
        newcomer = fault_stack.login("writer")
        assert fault_stack.status("/", newcomer)[0] == 200
        _, page = leaver.request("GET", "/")
        response, _ = leaver.request(
            "POST", "/accounts/logout/", {"csrfmiddlewaretoken": csrf_token(page)}
        )
        assert response.status in (200, 302)
    finally:
        fault_stack.redis.start()

    fault_stack.wait_for("/readyz", 200)
    assert fault_stack.status("/", reader)[0] == 200
    assert fault_stack.status("/", newcomer)[0] == 200
    # Each worker tries Redis again only once its back-off since its last failure has passed, and
    # logs the recovery then: on a busy machine the first pages may still come before that.
    deadline = time.monotonic() + STATE_WAIT
    recovered = '"event": "cache_up"'
    while recovered not in fault_stack.log()[log_start:] and time.monotonic() < deadline:
        assert fault_stack.status("/", reader)[0] == 200
        time.sleep(0.2)
    log = fault_stack.log()[log_start:]
    assert '"event": "cache_down"' in log and '"event": "cache_up"' in log
    # Degraded, not failing: no request raised.
    assert "Traceback" not in log


def test_a_frozen_cache_times_out_into_the_database_then_recovers(fault_stack):
    """A node that stops answering without closing its socket (a partition, a hung node):
    the client times out, the cache is then left alone, and pages keep working."""
    reader = fault_stack.login("reader")
    fault_stack.redis.freeze()
    try:
        statuses = [fault_stack.status("/", reader)[0] for _ in range(10)]
        assert statuses == [200] * 10
        fault_stack.wait_for("/readyz", 503)
    finally:
        fault_stack.redis.thaw()
    fault_stack.wait_for("/readyz", 200)
    assert fault_stack.status("/", reader)[0] == 200


# ---- Concurrent writes ----


def test_sixteen_clients_create_exactly_a_thousand_todos(fault_stack):
    import psycopg

    clients = [fault_stack.login("writer") for _ in range(16)]
    tokens = [csrf_token(client.request("GET", "/todos/new/")[1]) for client in clients]
    statuses: list[int] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 300

    def create(index: int) -> None:
        client, token = clients[index % 16], tokens[index % 16]
        assert time.monotonic() < deadline, "the writes took longer than 300 s"
        response, _ = client.request(
            "POST",
            "/todos/new/",
            {"title": f"並行 {index}", "notes": "", "csrfmiddlewaretoken": token},
        )
        with lock:
            statuses.append(response.status)

    with psycopg.connect(fault_stack.db_url, connect_timeout=5) as conn:
        before = conn.execute(
            "SELECT count(*) FROM todo_todo t JOIN auth_user u ON u.id = t.owner_id"
            " WHERE u.username = 'writer'"
        ).fetchone()[0]
    # 16 threads, each its own session, at once: every create must land exactly once.
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(create, range(1000)))

    assert len(statuses) == 1000
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) == {302}
    with psycopg.connect(fault_stack.db_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT count(*), count(DISTINCT title) FROM todo_todo t"
            " JOIN auth_user u ON u.id = t.owner_id WHERE u.username = 'writer'"
        ).fetchone()
    assert rows == (before + 1000, before + 1000)


# ---- Graceful shutdown ----


@dataclass
class Outcome:
    request_id: str
    sent: float
    done: float
    status: int | None  # None: refused or reset before any answer


def test_sigterm_lets_every_accepted_request_finish(tmp_path):
    """Steady load of slow requests, SIGTERM to gunicorn's master: whatever a worker had
    accepted completes with 200; the rest is refused, never cut off or answered 5xx."""
    port = free_port()
    started_log = tmp_path / "started"
    started_log.touch()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL")  # /slow/ needs neither
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.fault_settings",
            "FAULT_STARTED_LOG": str(started_log),
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "2",
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
        }
    )
    proc = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
        cwd=APP_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        for _ in range(200):  # bounded; each request takes ~0.4 s
            if stop.is_set():
                return
            request_id = uuid.uuid4().hex
            sent = time.monotonic()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/slow/?ms=400", headers={"X-Request-Id": request_id}
            )
            status = None
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    status = response.status if response.read() == b"done" else -1
            except urllib.error.HTTPError as exc:
                status = exc.code
            except OSError:
                status = None
            with lock:
                outcomes.append(Outcome(request_id, sent, time.monotonic(), status))
            if status is None:
                return  # refused: the server has stopped listening

    try:
        wait_for_port(port, timeout=60)
        threads = [threading.Thread(target=client) for _ in range(6)]
        for thread in threads:
            thread.start()
        # Steady load first: wait until the workers have answered a few requests.
        deadline = time.monotonic() + 60
        while len([o for o in outcomes if o.status == 200]) < 4:
            assert time.monotonic() < deadline, "no steady load within 60 s"
            time.sleep(0.05)
        signalled = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
        stop.set()
        for thread in threads:
            thread.join(timeout=40)
    finally:
        stop.set()
        stop_process_group(proc)

    accepted = set(started_log.read_text().split())
    by_id = {outcome.request_id: outcome for outcome in outcomes}
    # Every request a worker took on was answered in full.
    assert accepted, "no request reached a worker"
    assert {rid: by_id[rid].status for rid in accepted if rid in by_id} == dict.fromkeys(
        accepted & by_id.keys(), 200
    )
    assert accepted <= by_id.keys()
    # ... including some that were in flight when the signal came.
    in_flight = [o for o in outcomes if o.sent < signalled < o.done and o.status == 200]
    assert in_flight, "no request was in flight at SIGTERM: the test proved nothing"
    # Nothing else but a refusal: no 5xx, no truncated answer.
    assert {o.status for o in outcomes} <= {200, None}
