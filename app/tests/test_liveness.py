"""gunicorn's liveness listener (config/liveness.py): up while gunicorn is, and failing the
health check's 3 s call when gunicorn is frozen or dead."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from config.liveness import health_address
from tests.helpers import APP_DIR, PYTHON, free_port, stop_process_group, wait_for_port

pytestmark = pytest.mark.slow


def probe(port: int, path: str = "/healthz") -> int | str:
    """What the task definition's container health check does (timeout 3 s)."""
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=3).status
    except urllib.error.HTTPError as exc:
        return exc.code
    except urllib.error.URLError as exc:
        return type(exc.reason).__name__
    except OSError as exc:
        return type(exc).__name__


def test_the_listener_is_on_the_next_port():
    assert health_address("127.0.0.1:8000") == ("127.0.0.1", 8001)
    assert health_address("[::1]:9000") == ("::1", 9001)
    with pytest.raises(ValueError, match="GUNICORN_BIND"):
        health_address("unix:/tmp/sock")


def test_liveness_follows_gunicorn_and_not_its_workers(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": "1",
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
    try:
        wait_for_port(port + 1, timeout=60)
        deadline = time.monotonic() + 30
        while probe(port + 1) != 200:
            assert time.monotonic() < deadline, "liveness never answered 200"
            time.sleep(0.2)
        assert probe(port + 1, "/other") == 404

        # Frozen (master and workers): the call times out, as ECS's would.
        os.killpg(proc.pid, signal.SIGSTOP)
        try:
            while Path(f"/proc/{proc.pid}/stat").read_text().split(") ")[1][0] != "T":
                time.sleep(0.01)  # the signal is delivered asynchronously
            started = time.monotonic()
            assert probe(port + 1) == "TimeoutError"
            assert time.monotonic() - started < 5
        finally:
            os.killpg(proc.pid, signal.SIGCONT)
        assert probe(port + 1) == 200

        # The master dead: refused at once. Its worker lives on for a while, but closed its
        # copy of the listening socket when it was forked, so it cannot answer in its place.
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert probe(port + 1) == "ConnectionRefusedError"
    finally:
        stop_process_group(proc)
