"""The real images as the ECS task runs them: built once and started once per test session
(tools/images.py build, then up), against a scratch database; removed afterwards."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.helpers import APP_DIR, PYTHON, postgres_url, require, scratch_postgres_database

ROOT = APP_DIR.parent
IMAGES = ROOT / "tools" / "images.py"
PASSWORD = "correct-horse-battery-staple-42"
PROXY_URL = "http://localhost:8080"
APP_URL = "http://127.0.0.1:8000"
APP_CONTAINER, PROXY_CONTAINER = "todo-local-app", "todo-local-proxy"

sys.path.insert(0, str(ROOT / "tools"))
from imagekit import podman  # noqa: E402


class ContainerStack:
    """What the end-to-end tests need of a stack (as LiveStack), plus the build's figures."""

    def __init__(self, username: str, figures: dict):
        self.base_url, self.app_url = PROXY_URL, APP_URL
        self.username, self.password = username, PASSWORD
        self.figures = figures

    def log(self) -> str:
        return "".join(
            podman.podman("logs", name, check=False).stdout or ""
            for name in (PROXY_CONTAINER, APP_CONTAINER)
        )

    def exec(self, container: str, *command: str) -> subprocess.CompletedProcess:
        return podman.podman("exec", container, *command, check=False, timeout=60)


def _images(command: str, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, str(IMAGES), command, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    # The build's own lines (stand-in bases, the CA bundle) belong in the test report.
    sys.stderr.write(result.stderr)
    if result.returncode != 0:
        pytest.fail(f"tools/images.py {command} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout or "{}")


@pytest.fixture(scope="session")
def container_stack():
    reason = podman.unavailable_reason()
    require(reason is None, f"containers cannot run here: {reason}")
    require(bool(postgres_url()), "the containers need a PostgreSQL DATABASE_URL")
    require(bool(os.environ.get("REDIS_URL")), "the containers need REDIS_URL")
    figures = {"build": _images("build", dict(os.environ))}
    username = f"e2e-{uuid.uuid4().hex[:6]}"
    with contextlib.ExitStack() as cleanup:
        database_url = cleanup.enter_context(scratch_postgres_database("todo_containers"))
        env = {**os.environ, "DATABASE_URL": database_url}
        cleanup.callback(_images, "down", env)
        figures["up"] = _images("up", env)
        # The user the tests log in as, created by the host's interpreter in the same database.
        subprocess.run(
            [
                PYTHON,
                "manage.py",
                "createsuperuser",
                "--no-input",
                "--username",
                username,
                "--email",
                f"{username}@example.com",
            ],
            cwd=APP_DIR,
            env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD, "SECRET_KEY": "x" * 50},
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield ContainerStack(username, figures)
