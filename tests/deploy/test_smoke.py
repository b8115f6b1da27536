"""The smoke-test script the release runs in the app container (deploy/smoke.py), run here with
this interpreter against a local HTTP server that plays the test listener."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from http_listener import Listener

from deploy import smoke

ROOT = Path(__file__).resolve().parents[2]


def run(url: str, wait: float = 0) -> subprocess.CompletedProcess[str]:
    python, *arguments = smoke.command(url, wait_seconds=wait)
    assert python == "python"  # the app image's interpreter
    return subprocess.run([sys.executable, *arguments], capture_output=True, text=True, timeout=60, check=False)


def url_of(server: Listener) -> str:
    return server.url


def test_every_path_answering_200_passes(listener):
    result = run(url_of(listener) + "/")  # a trailing slash is dropped, not doubled

    assert result.returncode == 0, result.stdout + result.stderr
    assert listener.seen == list(smoke.PATHS)
    assert result.stdout.splitlines() == [f"smoke: {path} 200" for path in smoke.PATHS]


def test_a_failing_path_fails_and_says_which(listener):
    listener.answers["/healthz"] = 503

    result = run(url_of(listener))

    assert result.returncode == 1
    assert "smoke: /healthz answered 503, not 200" in result.stdout
    assert "/accounts/login/" not in listener.seen  # it stops at the first failing path


def test_the_paths_are_public_through_nginx():
    """nginx answers /readyz 404 from outside the task: a smoke test of it could never pass."""
    nginx = (ROOT / "app" / "nginx" / "nginx.conf").read_text()
    assert "location ~ ^/readyz/?$ {\n            return 404;" in nginx
    assert "/readyz" not in smoke.PATHS
    assert smoke.PATHS[0] == "/healthz"


def test_a_redirect_is_not_followed(listener):
    """A redirect could lead to production's name on 443: its answer proves nothing."""
    listener.answers["/accounts/login/"] = 302

    result = run(url_of(listener))

    assert result.returncode == 1
    assert "/elsewhere/" not in listener.seen
    assert "smoke: /accounts/login/ answered 302, not 200" in result.stdout


def test_an_unreachable_listener_fails_after_the_wait(listener):
    url = url_of(listener)
    listener.shutdown()
    listener.server_close()

    result = run(url, wait=1)

    assert result.returncode == 1
    assert result.stdout.startswith("smoke: /healthz answered URLError: ")
    assert "Connection refused" in result.stdout


def test_a_path_that_recovers_within_the_wait_passes(listener):
    """The test rule's change may take a moment to reach every load balancer node."""
    listener.answers["/healthz"] = 503
    threading.Timer(1.0, lambda: listener.answers.update({"/healthz": 200})).start()

    result = run(url_of(listener), wait=30)

    assert result.returncode == 0, result.stdout
    assert listener.seen.count("/healthz") >= 2
