"""Cold start: process start to the first 200 from /readyz, with nginx serving.

/readyz is answered inside the task only (nginx refuses it to the internet), so "ready" is
gunicorn's /readyz answering 200 (database and cache reachable) and nginx answering the load
balancer's /healthz: the state in which the task takes traffic.

The project's start is what the task does: the proxy container's nginx and the app
container's `gunicorn --config gunicorn.conf.py` start together (migrations ran as a one-off
task, static files were collected at build time). The seed's entrypoint ran, in sequence:
migrate, collectstatic, nginx -t and start nginx, then `poetry run gunicorn --workers 3`.
Both are timed here on the same machine, database and config files, alternating.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from .procs import BenchError, http_status, stop_group, wait_until
from .stack import Stack

ROOT = Path(__file__).resolve().parents[2]
SEED_VENV = ROOT / "bench" / ".venv-seed"
SEED_LOCK = ROOT / "bench" / "seed-requirements.lock"


def poetry() -> str:
    """The seed's package manager, from bench/seed-requirements.lock (installed on first use)."""
    binary = SEED_VENV / "bin" / "poetry"
    stamp = SEED_VENV / ".installed-from-lock"
    if not stamp.exists() or stamp.stat().st_mtime < SEED_LOCK.stat().st_mtime:
        shutil.rmtree(SEED_VENV, ignore_errors=True)
        subprocess.run(["python3", "-m", "venv", str(SEED_VENV)], check=True, timeout=120)
        install = subprocess.run([str(SEED_VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                                  "--require-hashes", "-r", str(SEED_LOCK)], capture_output=True, text=True,
                                 timeout=600, check=False)
        if install.returncode != 0:
            raise BenchError(f"installing poetry for the seed's sequence failed: {install.stderr.strip()[-300:]}")
        stamp.touch()
    return str(binary)


def _nginx_conf(stack: Stack) -> Path:
    """serve.sh renders the proxy image's nginx.conf for this machine; reuse that."""
    result = subprocess.run(["bash", "scripts/serve.sh"], cwd=stack.variant.app_dir,
                            env={**stack.env(), "SERVE_RENDER_ONLY": "1"}, capture_output=True, text=True,
                            timeout=60, check=True)
    return Path(result.stdout.strip())


def _nginx(conf: Path) -> list[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    return [binary, "-e", "stderr", "-p", str(conf.parent), "-c", str(conf), "-g", globals_]


def _ready(stack: Stack) -> bool:
    return (http_status(f"http://127.0.0.1:{stack.app_port}/readyz", timeout=1) == 200
            and http_status(f"{stack.base}/healthz", timeout=1) == 200)


def project_start(stack: Stack) -> float:
    conf = _nginx_conf(stack)
    env, procs = {**stack.env(), "GUNICORN_BIND": f"127.0.0.1:{stack.app_port}"}, []
    log = (stack.workdir / "coldstart.log").open("ab")
    try:
        start = time.monotonic()
        procs.append(subprocess.Popen(_nginx(conf), env=env, stdout=log, stderr=log, start_new_session=True))
        procs.append(subprocess.Popen([stack.services.python, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
                                      cwd=stack.variant.app_dir, env=env, stdout=log, stderr=log,
                                      start_new_session=True))
        wait_until(lambda: _ready(stack), 60, "project cold start: /readyz")
        return time.monotonic() - start
    finally:
        for proc in procs:
            stop_group(proc)
        log.close()
        shutil.rmtree(conf.parent, ignore_errors=True)


def seed_start(stack: Stack) -> float:
    conf = _nginx_conf(stack)
    app_dir, python = stack.variant.app_dir, stack.services.python
    venv = Path(python).parent.parent
    env = {**stack.env(), "VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{os.environ.get('PATH', '')}"}
    log = (stack.workdir / "coldstart.log").open("ab")
    procs = []
    try:
        start = time.monotonic()
        for args in (["manage.py", "migrate"], ["manage.py", "collectstatic", "--no-input"]):
            subprocess.run([python, *args], cwd=app_dir, env=env, stdout=log, stderr=log, check=True, timeout=300)
        subprocess.run([*_nginx(conf), "-t"], env=env, stdout=log, stderr=log, check=True, timeout=60)
        procs.append(subprocess.Popen(_nginx(conf), env=env, stdout=log, stderr=log, start_new_session=True))
        procs.append(subprocess.Popen([poetry(), "run", "gunicorn", "--workers", "3", "--bind",
                                       f"127.0.0.1:{stack.app_port}", "config.wsgi:application"],
                                      cwd=app_dir, env=env, stdout=log, stderr=log, start_new_session=True))
        wait_until(lambda: _ready(stack), 120, "seed cold start: /readyz")
        return time.monotonic() - start
    finally:
        for proc in procs:
            stop_group(proc)
        log.close()
        shutil.rmtree(conf.parent, ignore_errors=True)
