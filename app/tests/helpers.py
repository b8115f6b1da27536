"""Small helpers shared by the tests: services, ports, processes."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent
PYTHON = os.environ.get("TEST_PYTHON") or str(APP_DIR / ".venv" / "bin" / "python")


def services_required() -> bool:
    return os.environ.get("TEST_REQUIRE_SERVICES", "").strip().lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skips when something the test needs is missing, or fails when the run demands it."""
    if condition:
        return
    if services_required():
        pytest.fail(f"TEST_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


def free_port(avoid: tuple[int, ...] = ()) -> int:
    """A port nothing listens on now, other than those in `avoid` (chosen but not yet bound)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in avoid:
            return port


def gunicorn_port() -> int:
    """A free port for gunicorn whose next port is free too: the master answers liveness on
    port + 1 (config/liveness.py), and nginx's own free port must not land there."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as low:
            low.bind(("127.0.0.1", 0))
            port = low.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as high:
                try:
                    high.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no free pair of ports for gunicorn and its liveness listener")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listened on port {port} within {timeout} s")


def start_serve(env: dict[str, str], log_path: Path) -> subprocess.Popen:
    """scripts/serve.sh (nginx + gunicorn) in a session of its own, its output appended to
    log_path (as nginx does when it opens /dev/stdout itself: one offset for both)."""
    with log_path.open("ab") as log:
        return subprocess.Popen(
            ["bash", "scripts/serve.sh"],
            cwd=APP_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_process_group(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM to the whole group (what ECS or Ctrl-C would send), SIGKILL if it lingers."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
    # Children that outlived their parent (a stray worker) go too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://", "pgsql://")) else None


@contextlib.contextmanager
def scratch_postgres_database(prefix: str) -> Iterator[str]:
    """A uniquely named database on the DATABASE_URL server, dropped afterwards; yields its URL."""
    import psycopg

    from config.env import parse_database_url

    base_url = postgres_url()
    assert base_url, "needs a PostgreSQL DATABASE_URL"
    params = parse_database_url(base_url, password=os.environ.get("DATABASE_PASSWORD"))
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = {
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
        "user": params["USER"] or None,
        "password": params["PASSWORD"] or None,
        "dbname": "postgres",
        "connect_timeout": 5,
        "autocommit": True,
    }
    with psycopg.connect(**admin) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        scheme_and_rest, _, _path = base_url.partition("?")[0].rpartition("/")
        query = base_url.partition("?")[2]
        yield f"{scheme_and_rest}/{name}" + (f"?{query}" if query else "")
    finally:
        with psycopg.connect(**admin) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_settings(**env: str) -> subprocess.CompletedProcess:
    """settings.DATABASES["default"] as JSON on stdout, from a fresh interpreter given only
    `env` (settings are read once, at import)."""
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
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
