"""A database that vanishes under load, as in an RDS failover, behind the real nginx + gunicorn.

The stack (scripts/serve.sh) and a private PostgreSQL run in a network namespace of their own.
PostgreSQL listens on an address of a veth link; deleting that address black-holes it for
real: new connections get no answer and the packets of open ones are never acknowledged (a
user-space proxy could not do the latter: its kernel would acknowledge them). nginx listens on
a Unix socket, which the test reaches from outside the namespace.

While the database is black-holed and pages are under load:
- the container health check (the task definition's urllib call, run inside the namespace)
  and the load balancer's /healthz (through nginx) answer 200 within 3 s, every time;
- pages answer 503, fast once each worker has met the outage;
- one db_unavailable line stands for many 503s, and no traceback per request;
and once the address is back, pages answer 200 again without a restart.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, _nginx_available
from tests.helpers import APP_DIR, PYTHON, require, stop_process_group
from tests.private_services import PrivatePostgres
from tests.test_stack_e2e import Browserless, csrf_token

pytestmark = pytest.mark.slow

DB_ADDRESS = "10.77.0.2"
CONNECT_TIMEOUT = 2  # DATABASE_CONNECT_TIMEOUT and DATABASE_TCP_TIMEOUT, seconds
OUTAGE = 20.0  # seconds of load while black-holed
HEALTH_TIMEOUT = 3.0  # the container health check's urllib timeout

# The task definition's container health check, looped: (seconds since start, status, latency).
_PROBE = """
import json, sys, time, urllib.error, urllib.request
url, until, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
with open(out, "a") as log:
    while time.time() < until:
        started = time.time()
        try:
            status = urllib.request.urlopen(url, timeout=3).status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            status = repr(exc)
        log.write(json.dumps([started, status, time.time() - started]) + "\\n")
        log.flush()
        time.sleep(0.5)
"""


class UnixBrowserless(Browserless):
    def __init__(self, path: str, timeout: float = 30):
        super().__init__("http://localhost", timeout)
        self.path, self.host_header = path, "localhost"

    def connection(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("localhost", timeout=self.timeout)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.path)
        conn.sock = sock
        return conn


@dataclass
class Stack:
    ns: list[str]  # command prefix that runs inside the namespace
    nginx_socket: str
    log_path: Path

    def client(self) -> UnixBrowserless:
        return UnixBrowserless(self.nginx_socket)

    def login(self, username: str) -> UnixBrowserless:
        client = self.client()
        _, page = client.request("GET", "/accounts/login/")
        response, _ = client.request(
            "POST",
            "/accounts/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": csrf_token(page)},
        )
        assert response.status == 302, f"login failed: {response.status}"
        return client

    def ip(self, *args: str) -> None:
        subprocess.run([*self.ns, "ip", *args], check=True, capture_output=True, timeout=30)


def _in_namespace(ns: list[str], *args: str, env: dict, timeout: float = 180) -> None:
    result = subprocess.run(
        [*ns, *args], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require(_nginx_available(), "nginx is not installed")
    require(os.geteuid() == 0, "a network namespace with its own links needs root")
    require(
        all(shutil.which(tool) for tool in ("unshare", "nsenter", "ip")),
        "unshare, nsenter and ip (util-linux, iproute2) are needed",
    )
    workdir = tmp_path_factory.mktemp("outage")
    holder = subprocess.Popen(["unshare", "--net", "--", "sleep", "3600"], start_new_session=True)
    ns = ["nsenter", "--target", str(holder.pid), "--net", "--"]
    postgres = serve = None
    try:
        for command in (
            "link set lo up",
            "link add va type veth peer name vb",
            "addr add 10.77.0.1/24 dev va",
            f"addr add {DB_ADDRESS}/32 dev vb",
            "link set va up",
            "link set vb up",
        ):
            made = subprocess.run(
                [*ns, "ip", *command.split()], capture_output=True, text=True, timeout=30
            )
            # A container without CAP_NET_ADMIN / CAP_SYS_ADMIN cannot: skipped, or failed
            # under TEST_REQUIRE_SERVICES=1.
            require(made.returncode == 0, f"network namespace: ip {command}: {made.stderr}")
        postgres = PrivatePostgres(host=DB_ADDRESS, prefix=tuple(ns))
        with (postgres.data / "pg_hba.conf").open("a") as hba:
            hba.write("host all all 10.77.0.0/24 trust\n")
        postgres.start()
        created = subprocess.run(
            [*postgres.as_postgres, "psql", "-h", DB_ADDRESS, "-p", str(postgres.port),
             "-U", "postgres", "-c", "CREATE DATABASE todo"],
            capture_output=True, text=True, cwd=postgres.root, timeout=60,
        )  # fmt: skip
        assert created.returncode == 0, created.stderr
        nginx_socket = str(workdir / "nginx.sock")
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")},
            "DATABASE_URL": f"postgres://postgres@{DB_ADDRESS}:{postgres.port}/todo",
            "DATABASE_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
            "DATABASE_TCP_TIMEOUT": str(CONNECT_TIMEOUT),
            "DATABASE_RETRY_SECONDS": "3",
            "PORT": f"unix:{nginx_socket}",
            "GUNICORN_PORT": "8000",  # the namespace's own ports: the image's
            "GUNICORN_WORKERS": "2",
            "DATA_DIR": str(workdir),
            "STATIC_ROOT": str(workdir / "static"),
            "TMPDIR": str(workdir),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "localhost",
            "HTTPS": "0",
            "PYTHON": PYTHON,
        }
        _in_namespace(ns, PYTHON, "manage.py", "migrate", "--no-input", "-v", "0", env=env)
        _in_namespace(
            ns, PYTHON, "manage.py", "createsuperuser", "--no-input", "--username", "reader",
            "--email", "reader@example.com", env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        )  # fmt: skip
        log_path = workdir / "serve.log"
        with log_path.open("ab") as log:
            serve = subprocess.Popen(
                [*ns, "bash", "scripts/serve.sh"], cwd=APP_DIR, env=env,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        current = Stack(ns, nginx_socket, log_path)
        deadline = time.monotonic() + 120
        while True:
            try:
                if current.client().request("GET", "/healthz")[0].status == 200:
                    break
            except OSError:
                pass
            assert serve.poll() is None, log_path.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the stack did not start within 120 s"
            time.sleep(0.2)
        yield current
    finally:
        if serve:
            stop_process_group(serve)
        if postgres:
            postgres.remove()
        stop_process_group(holder)


@dataclass
class Answer:
    started: float
    status: int | str
    seconds: float


def _load(stack: Stack, path: str, until: float, answers: list[Answer], client=None) -> None:
    client = client or stack.client()
    while time.time() < until:
        started = time.time()
        try:
            status = client.request("GET", path)[0].status
        except OSError as exc:
            status = repr(exc)
        answers.append(Answer(started, status, time.time() - started))
        if path == "/healthz":
            time.sleep(0.5)


def test_a_black_holed_database_fails_pages_fast_and_never_the_health_checks(stack):
    readers = [stack.login("reader") for _ in range(6)]
    assert {reader.request("GET", "/")[0].status for reader in readers} == {200}
    log_start = stack.log_path.stat().st_size

    probes = stack.log_path.parent / "container-probe.jsonl"
    blackholed = time.time()
    until = blackholed + OUTAGE
    stack.ip("addr", "del", f"{DB_ADDRESS}/32", "dev", "vb")
    try:
        container = subprocess.Popen(
            [*stack.ns, PYTHON, "-c", _PROBE, "http://127.0.0.1:8001/healthz", str(until),
             str(probes)],
        )  # fmt: skip
        pages: list[Answer] = []
        balancer: list[Answer] = []
        # A page that reads the database on every request (the TODO to edit): a list page seen
        # before answers from the cache while the database is away (test_faults.py).
        threads = [
            threading.Thread(target=_load, args=(stack, "/todos/1/edit/", until, pages, reader))
            for reader in readers
        ] + [threading.Thread(target=_load, args=(stack, "/healthz", until, balancer))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(OUTAGE + 60)
        container.wait(60)
    finally:
        stack.ip("addr", "add", f"{DB_ADDRESS}/32", "dev", "vb")

    # Liveness never depended on the database, nor on a free worker.
    checks = [Answer(*json.loads(line)) for line in probes.read_text().splitlines()]
    for name, answers in (("container", checks), ("load balancer", balancer)):
        assert len(answers) >= OUTAGE / 2, f"too few {name} health checks: {len(answers)}"
        failed = [a for a in answers if a.status != 200 or a.seconds >= HEALTH_TIMEOUT]
        assert failed == [], f"{name} health check failed during the outage: {failed[:5]}"

    # Pages: 503, never a hang; fast once each worker knows (its first request may spend
    # a TCP timeout on its pooled connection, then a connect timeout).
    assert pages and {a.status for a in pages} == {503}, {a.status for a in pages}
    settled = [a.seconds for a in pages if a.started > blackholed + 3 * CONNECT_TIMEOUT]
    assert len(settled) >= 50, f"only {len(settled)} page answers after the first seconds"
    assert statistics.median(settled) < 0.5, f"median 503 took {statistics.median(settled):.2f} s"
    assert max(a.seconds for a in pages) < 3 * CONNECT_TIMEOUT + 3

    # One db_unavailable line per worker and interval, no traceback per request.
    lines = [
        json.loads(line)
        for line in stack.log_path.read_bytes()[log_start:].decode(errors="replace").splitlines()
        if line.startswith("{")
    ]
    events = [line for line in lines if line.get("event") == "db_unavailable"]
    assert events, "no db_unavailable event"
    assert sum(event["requests"] for event in events) <= len(pages)
    assert len(events) <= 2 * (OUTAGE / 10 + 2), f"{len(events)} db_unavailable lines"
    tracebacks = [line for line in lines if "exc_info" in line and "request" in line["logger"]]
    assert tracebacks == [], f"{len(tracebacks)} request tracebacks during the outage"

    # Back: pages work again, without a restart.
    reader = readers[0]
    deadline = time.monotonic() + 30
    while (status := reader.request("GET", "/")[0].status) != 200:
        assert time.monotonic() < deadline, f"pages still answer {status} 30 s after the database"
        time.sleep(0.5)
