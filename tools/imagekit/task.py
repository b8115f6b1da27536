"""The ECS task on this machine: the app and proxy containers run as modules/ecs/task.tf runs them.

What the task definition sets and podman can mirror is mirrored (tests/test_images.py compares
these values with the module's container definitions): user, read-only root file system, a
writable volume at /tmp seeded from the image, every capability dropped, an init process, the
app's health check (the proxy starts once it passes, as dependsOn HEALTHY does), the stop
timeout, and the environment by name. Networking is the host's: the two containers share
localhost as they do in an awsvpc task, and reach this machine's PostgreSQL and Redis.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from .build import TARGETS
from .podman import ImageError, container_running, log, podman

PREFIX = "todo-local"
APP_PORT, PROXY_PORT = 8000, 8080
# gunicorn's master answers liveness on the next port (app/config/liveness.py), as in the task.
LIVENESS_PORT = APP_PORT + 1
STATE = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "todo-images"


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    user: str
    read_only_root: bool = True
    cap_drop: tuple[str, ...] = ("ALL",)
    init: bool = True
    scratch: str = "/tmp"
    stop_timeout: int = 30
    health_command: tuple[str, ...] = ()
    health: dict[str, int] = field(default_factory=dict)  # interval, timeout, retries, startPeriod


APP = Container(
    name="app", image=TARGETS["app"], user="10001",
    health_command=("CMD", "python", "-c", "import urllib.request,sys; urllib.request.urlopen("
                    f"'http://127.0.0.1:{LIVENESS_PORT}/healthz', timeout=3)"),
    health={"interval": 15, "timeout": 5, "retries": 3, "startPeriod": 30},
)
PROXY = Container(name="proxy", image=TARGETS["proxy"], user="101")
MIGRATE_COMMAND = ("python", "manage.py", "migrate", "--noinput")

# The task's environment names (envs/*/ecs.tf), each with its value here or why it has none.
# A name the roots add without an entry here fails `make up` and tests/test_images.py.
OMITTED = {
    "REDIS_IAM_USER": "the local Redis has no IAM users: the app connects with REDIS_URL alone",
    "REDIS_IAM_CACHE_NAME": "as REDIS_IAM_USER",
    "DATABASE_CREDENTIALS_ARN": "the migration connects with DATABASE_URL's user, not Secrets Manager's",
}


def local_environment(database_url: str, redis_url: str, secret_key: str) -> dict[str, str]:
    return {
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"http://localhost:{PROXY_PORT},http://127.0.0.1:{PROXY_PORT}",
        "HTTPS": "0",  # no TLS terminator in front, as in a root without a domain
        "DATABASE_URL": database_url,
        "DATABASE_IAM_AUTH": "0",  # the local PostgreSQL has no IAM tokens
        "REDIS_URL": redis_url,
        "AWS_REGION": "us-east-1",
        "GUNICORN_WORKERS": "2",
        # Only nginx appends to X-Forwarded-For here: there is no load balancer in front.
        "TRUSTED_PROXY_COUNT": "1",
        "SECRET_KEY": secret_key,
    }


MIGRATE_ONLY = {"DATABASE_CREDENTIALS_ARN"}
MIGRATE_DROPS = {"DATABASE_IAM_AUTH"}  # as modules/batch/main.tf's migration does


def _secret_key() -> str:
    """Kept across `make up` runs so sessions survive a restart; never in an image or the repo."""
    path = STATE / "secret_key"
    if not path.exists():
        STATE.mkdir(parents=True, exist_ok=True)
        old = os.umask(0o077)
        try:
            path.write_text(secrets.token_urlsafe(50))
        finally:
            os.umask(old)
    return path.read_text().strip()


def _env_file(env: dict[str, str], name: str) -> Path:
    """Values go to podman through a file readable by this user only, never on a command line."""
    STATE.mkdir(parents=True, exist_ok=True)
    path = STATE / f"{name}.env"
    old = os.umask(0o077)
    try:
        path.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())))
    finally:
        os.umask(old)
    return path


def run_flags(container: Container) -> list[str]:
    flags = ["--network=host", f"--user={container.user}", f"--stop-timeout={container.stop_timeout}"]
    if container.read_only_root:
        # podman would otherwise add tmpfs mounts at /run, /var/tmp and /tmp: ECS adds none.
        flags += ["--read-only", "--read-only-tmpfs=false"]
    flags += [f"--cap-drop={c}" for c in container.cap_drop]
    # A volume that, like ECS's task volume, podman seeds from the image's /tmp (mode 1777).
    flags += [f"--volume={PREFIX}-{container.name}-tmp:{container.scratch}:rw"]
    if container.init:
        flags.append("--init")
    if container.health_command:
        kind, *command = container.health_command
        assert kind == "CMD", kind
        h = container.health
        flags += [f"--health-cmd={json.dumps(command)}", f"--health-interval={h['interval']}s",
                  f"--health-timeout={h['timeout']}s", f"--health-retries={h['retries']}",
                  f"--health-start-period={h['startPeriod']}s"]
    return flags


def _urls(database_url: str | None, redis_url: str | None) -> tuple[str, str]:
    database_url = database_url or os.environ.get("DATABASE_URL", "")
    redis_url = redis_url or os.environ.get("REDIS_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not redis_url.startswith("redis"):
        raise ImageError("make up needs DATABASE_URL (postgres://...) and REDIS_URL (redis://...)")
    return database_url, redis_url


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def up(database_url: str | None = None, redis_url: str | None = None, timeout: float = 120) -> dict[str, float]:
    """Migration task, then app (until healthy), then proxy; returns the seconds each step took.
    The URLs default to DATABASE_URL and REDIS_URL."""
    database_url, redis_url = _urls(database_url, redis_url)
    down(quiet=True)
    for port in (APP_PORT, PROXY_PORT):
        if not _port_free(port):
            raise ImageError(f"port {port} is in use on 127.0.0.1: the task's containers use the host's "
                             "network, as an awsvpc task uses its own; stop what listens there (make serve?)")
    env = local_environment(database_url, redis_url, _secret_key())
    timings = {}
    started = time.monotonic()
    migrate_env = {k: v for k, v in env.items() if k not in MIGRATE_DROPS}
    log("migrate: the one-off task (python manage.py migrate --noinput)")
    podman("run", "--rm", f"--name={PREFIX}-migrate", *run_flags(_without_health(APP)),
           f"--env-file={_env_file(migrate_env, 'migrate')}", APP.image, *MIGRATE_COMMAND, timeout=300)
    timings["migrate_s"] = round(time.monotonic() - started, 1)

    started = time.monotonic()
    podman("run", "--detach", f"--name={PREFIX}-app", *run_flags(APP), f"--env-file={_env_file(env, 'app')}",
           APP.image)
    wait_healthy(f"{PREFIX}-app", timeout)
    timings["app_healthy_s"] = round(time.monotonic() - started, 1)

    started = time.monotonic()
    podman("run", "--detach", f"--name={PREFIX}-proxy", *run_flags(PROXY), PROXY.image)
    wait_http(f"http://127.0.0.1:{PROXY_PORT}/healthz", timeout, f"{PREFIX}-proxy")
    timings["proxy_ready_s"] = round(time.monotonic() - started, 1)
    log(f"up: http://localhost:{PROXY_PORT}/ (proxy {PREFIX}-proxy -> app {PREFIX}-app); `make down` stops them")
    return timings


def _without_health(container: Container) -> Container:
    from dataclasses import replace

    return replace(container, health_command=(), health={})


def wait_healthy(name: str, timeout: float) -> None:
    """podman has no scheduler for health checks without systemd: run the image's check the
    way ECS does, every second here rather than every interval, until it passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not container_running(name):
            raise ImageError(f"{name} exited: {logs(name)[-1500:]}")
        if podman("healthcheck", "run", name, check=False, timeout=30).returncode == 0:
            return
        time.sleep(1)
    raise ImageError(f"{name} not healthy after {timeout:.0f} s: {logs(name)[-1500:]}")


def wait_http(url: str, timeout: float, name: str | None = None) -> float:
    """Seconds until url answers 200."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if name and not container_running(name):
            raise ImageError(f"{name} exited: {logs(name)[-1500:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.1)
    raise ImageError(f"{url} did not answer 200 within {timeout:.0f} s" + (f": {logs(name)[-1500:]}" if name else ""))


def logs(name: str) -> str:
    result = podman("logs", name, check=False, timeout=60)
    return (result.stdout or "") + (result.stderr or "")


def down(quiet: bool = False) -> None:
    for name in ("proxy", "app", "migrate"):
        podman("rm", "--force", "--time=30", f"{PREFIX}-{name}", check=False, timeout=120)
    for name in ("proxy", "app"):
        podman("volume", "rm", "--force", f"{PREFIX}-{name}-tmp", check=False, timeout=60)
    if not quiet:
        log("down: the task's containers and their /tmp volumes are removed")
