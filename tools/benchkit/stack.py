"""The serving stack as the images run it: app/scripts/serve.sh, i.e. nginx with the proxy
image's nginx.conf in front of gunicorn with the app image's gunicorn.conf.py, on loopback,
against a scratch database on the DATABASE_URL server and a key prefix of its own in Redis.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import socket
import subprocess
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from .procs import BenchError, command_name, http_status, memory_kib, stop_group, tree, wait_until

PROBE = Path(__file__).with_name("app_probe.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Variant:
    """One configuration to measure: an app folder (this tree's or an older revision's) and
    environment overrides (GUNICORN_WORKERS=3, ...)."""

    name: str
    app_dir: Path
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class Services:
    """A scratch database (created, migrated, dropped) and a Redis key prefix of this run."""

    database_url: str
    redis_url: str
    python: str
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    prefix: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url, "CACHE_KEY_PREFIX": self.prefix}


def _admin_sql(python: str, database_url: str, sql: str) -> None:
    """Runs one statement on the server's `postgres` database through the app's psycopg."""
    code = ("import sys, psycopg\n"
            "from urllib.parse import urlsplit, urlunsplit\n"
            "parts = urlsplit(sys.argv[1])\n"
            "admin = urlunsplit(parts._replace(path='/postgres', query=''))\n"
            "with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:\n"
            "    conn.execute(sys.argv[2])\n")
    result = subprocess.run([python, "-c", code, database_url, sql], capture_output=True, text=True, timeout=60,
                            check=False)
    if result.returncode != 0:
        raise BenchError(f"PostgreSQL: {result.stderr.strip().splitlines()[-1] if result.stderr else 'failed'}")


@contextlib.contextmanager
def scratch_services(python: str, app_dir: Path):
    """Yields Services on a new database of the DATABASE_URL server; drops it afterwards."""
    database_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url.startswith("redis://"):
        raise BenchError("set DATABASE_URL (postgres://...) and REDIS_URL (redis://...): "
                         "the bench measures the stack against PostgreSQL and Redis")
    name = f"bench_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(database_url)
    scratch_url = parts._replace(path=f"/{name}").geturl()
    _admin_sql(python, database_url, f'CREATE DATABASE "{name}"')
    services = Services(scratch_url, redis_url, python)
    try:
        run_app(python, app_dir, ["manage.py", "migrate", "--no-input", "-v", "0"], services.env())
        yield services
    finally:
        _admin_sql(python, database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _delete_prefix(python, redis_url, services.prefix)


def _delete_prefix(python: str, redis_url: str, prefix: str) -> None:
    code = ("import sys, redis\n"
            "client = redis.Redis.from_url(sys.argv[1], socket_timeout=5)\n"
            "for key in client.scan_iter(match=sys.argv[2] + '*', count=500): client.delete(key)\n")
    subprocess.run([python, "-c", code, redis_url, prefix], capture_output=True, timeout=120, check=False)


def base_env(app_dir: Path, python: str, extra: dict[str, str]) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHON": python,
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **extra,
    }


def run_app(python: str, app_dir: Path, args: list[str], extra: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run([python, *args], cwd=app_dir, env=base_env(app_dir, python, extra), capture_output=True,
                            text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["failed"]
        raise BenchError(f"{' '.join(args[:2])}: {tail[0]}")
    return result.stdout


class Stack:
    """scripts/serve.sh of one variant on free ports; stop() ends it."""

    def __init__(self, variant: Variant, services: Services, workdir: Path):
        self.variant, self.services = variant, services
        self.workdir = workdir / variant.name
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port, self.app_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = self.workdir / "serve.log"
        self.static_root = self.workdir / "static"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        return base_env(self.variant.app_dir, self.services.python, {
            **self.services.env(),
            "PORT": str(self.port),
            "GUNICORN_PORT": str(self.app_port),
            "STATIC_ROOT": str(self.static_root),
            "DATA_DIR": str(self.workdir),
            "TMPDIR": str(self.workdir),
            "SERVE_SKIP_SETUP": "1",
            **self.variant.env,
        })

    def start(self) -> None:
        run_app(self.services.python, self.variant.app_dir, ["manage.py", "collectstatic", "--no-input", "-v", "0"],
                {**self.services.env(), "STATIC_ROOT": str(self.static_root)})
        # Appending, as nginx does when it opens /dev/stdout itself: one offset for both.
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(["bash", "scripts/serve.sh"], cwd=self.variant.app_dir, env=self.env(),
                                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        wait_until(lambda: http_status(f"{self.base}/healthz") == 200 or self.proc.poll() is not None, 90,
                   f"{self.variant.name}: the stack's /healthz")
        if self.proc.poll() is not None:
            raise BenchError(f"{self.variant.name}: serve.sh exited: {self.log_path.read_text()[-500:]}")

    def stop(self) -> None:
        if self.proc:
            stop_group(self.proc)

    # ---- what the benchmark needs from a running stack ----

    def login(self, username: str) -> dict[str, str]:
        """A logged-in Cookie header, through the login form as a person would."""
        cookies: dict[str, str] = {}

        def request(method: str, path: str, body: dict | None = None) -> tuple[int, str]:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
            data = None
            if body is not None:
                data = urlencode(body)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                cookies.update({name: morsel.value for name, morsel in SimpleCookie(header).items()})
            conn.close()
            return response.status, text

        _, page = request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if not token:
            raise BenchError(f"{self.variant.name}: no login form")
        status, _ = request("POST", "/accounts/login/", {"username": username, "password": self.services.password,
                                                          "csrfmiddlewaretoken": token[1]})
        if status != 302 or "sessionid" not in cookies:
            raise BenchError(f"{self.variant.name}: login as {username} answered {status}")
        header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if http_status(f"{self.base}/", header, timeout=30) != 200:
            raise BenchError(f"{self.variant.name}: the list page is not 200 when logged in")
        return header

    def static_path(self) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", "/accounts/login/")
        page = conn.getresponse().read().decode(errors="replace")
        conn.close()
        found = re.search(r'href="(/static/[^"]+\.css)"', page)
        if not found:
            raise BenchError(f"{self.variant.name}: no stylesheet link on the login page")
        return found[1]

    def processes(self, name: str) -> list[int]:
        """The pids of the gunicorn (or nginx) master and its workers."""
        if not self.proc:
            return []
        return [pid for pid in tree(self.proc.pid)[1:] if name in command_name(pid)]

    def memory(self) -> dict[str, dict[str, int]]:
        return {name: memory_kib(self.processes(name)) for name in ("gunicorn", "nginx")}

    def log_bytes(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def access_lines(self, offset: int) -> int:
        """Access log lines (nginx's or gunicorn's) written after `offset`."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return sum(1 for line in log if re.search(rb'"message": ?"request"', line))
