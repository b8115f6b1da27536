from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import time
import urllib.request
import uuid

import pytest
from django.contrib.auth import get_user_model

from tests.containers import container_stack  # noqa: F401  (fixture)
from tests.helpers import (
    APP_DIR,
    PYTHON,
    free_port,
    gunicorn_port,
    postgres_url,
    require,
    scratch_postgres_database,
    services_required,
    start_serve,
    stop_process_group,
)
from tests.private_postgres import postgres_server, role  # noqa: F401  (fixtures)
from todo.models import Todo

PASSWORD = "correct-horse-battery-staple-42"


def pytest_sessionstart(session):
    # A CI run that asked for the services fails at once when one is missing or down,
    # rather than quietly skipping half of the suite.
    if not services_required():
        return
    missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name)]
    if missing:
        pytest.exit(f"TEST_REQUIRE_SERVICES=1 but {', '.join(missing)} unset", returncode=2)
    import redis

    try:
        redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        pytest.exit(f"TEST_REQUIRE_SERVICES=1 but Redis is unreachable: {exc}", returncode=2)


def pytest_sessionfinish(session, exitstatus):
    # Sessions and counters written to a shared Redis carry this run's prefix: remove them.
    # Never FLUSHDB: the database may be shared with something else.
    url, prefix = os.environ.get("REDIS_URL"), os.environ.get("CACHE_KEY_PREFIX")
    if not (url and prefix):
        return
    import redis

    with contextlib.suppress(redis.RedisError):
        client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
        for key in client.scan_iter(match=f"{prefix}*", count=500):
            client.delete(key)


@pytest.fixture(scope="session", autouse=True)
def collected_static(tmp_path_factory):
    """The manifest storage needs collectstatic's manifest, as in the images: build it once."""
    from django.core.management import call_command
    from django.test import override_settings

    override = override_settings(STATIC_ROOT=tmp_path_factory.mktemp("static"))
    override.enable()
    call_command("collectstatic", interactive=False, verbosity=0)
    yield
    override.disable()


@pytest.fixture(autouse=True)
def isolated_cache(settings):
    """A fresh cache namespace per test: counters such as the login limit never leak."""
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = (
        f"{caches['default'].get('KEY_PREFIX', '')}-{uuid.uuid4().hex}"
    )
    settings.CACHES = caches


@pytest.fixture
def aws_credentials(monkeypatch):
    """Fake AWS credentials in the environment: boto3 signs with them and never looks for real
    ones (no profile, no role)."""
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ROLE_ARN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTESTING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "session-testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture
def make_user(db):
    def make(username: str | None = None):
        return get_user_model().objects.create_user(
            username=username or f"user-{uuid.uuid4().hex[:8]}", password=PASSWORD
        )

    return make


@pytest.fixture
def user(make_user):
    return make_user("alice")


@pytest.fixture
def other_user(make_user):
    return make_user("bob")


@pytest.fixture
def auth_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def make_todo(db):
    def make(owner, title: str = "牛乳を買う", **fields):
        return Todo.objects.create(owner=owner, title=title, **fields)

    return make


# ---- The real stack: nginx + gunicorn via scripts/serve.sh ----


class LiveStack:
    def __init__(self, base_url: str, username: str, password: str, log_path, app_url: str = ""):
        self.base_url = base_url
        self.app_url = app_url  # gunicorn itself, as only the task's own processes reach it
        self.username = username
        self.password = password
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _nginx_available() -> bool:
    return any(
        os.access(os.path.join(d, "nginx"), os.X_OK)
        for d in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/sbin"]
    )


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory):
    """scripts/serve.sh on free ports, with its own database; stopped and dropped afterwards."""
    require(_nginx_available(), "nginx is not installed")
    workdir = tmp_path_factory.mktemp("stack")
    (workdir / "data").mkdir()
    app_port = gunicorn_port()
    env = {
        **os.environ,
        "PORT": str(free_port(avoid=(app_port, app_port + 1))),
        "GUNICORN_PORT": str(app_port),
        "GUNICORN_WORKERS": "2",
        "DATA_DIR": str(workdir / "data"),
        "STATIC_ROOT": str(workdir / "static"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "CACHE_KEY_PREFIX": f"{os.environ.get('CACHE_KEY_PREFIX', 'test')}-stack",
        "PYTHON": PYTHON,
    }
    username = f"e2e-{uuid.uuid4().hex[:6]}"
    with contextlib.ExitStack() as cleanup:
        if postgres_url():
            env["DATABASE_URL"] = cleanup.enter_context(scratch_postgres_database("todo_stack"))
        else:
            env.pop("DATABASE_URL", None)
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=APP_DIR,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
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
            env={**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
            check=True,
            capture_output=True,
            timeout=60,
        )
        log_path = workdir / "serve.log"
        proc = start_serve(env, log_path)
        stack = LiveStack(
            f"http://localhost:{env['PORT']}",
            username,
            PASSWORD,
            log_path,
            app_url=f"http://127.0.0.1:{env['GUNICORN_PORT']}",
        )
        try:
            _wait_healthy(stack, proc)
            yield stack
        finally:
            stop_process_group(proc)


def _wait_healthy(stack: LiveStack, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve.sh exited with {proc.returncode}:\n{stack.log()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{stack.base_url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the stack did not become healthy in {timeout} s:\n{stack.log()[-3000:]}")
