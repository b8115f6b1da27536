"""podman without a daemon: one wrapper that every command goes through, and the probe that
says whether containers can run on this machine at all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# runc and cgroupfs work on machines without systemd (CI containers, dev VMs); crun and the
# systemd cgroup manager, podman's defaults elsewhere, do not always.
GLOBAL_FLAGS = ["--runtime", "runc", "--cgroup-manager", "cgroupfs"]

# podman's default ulimits (nofile 1048576) cannot be set inside a container that already caps
# them lower, which fails every `run`; the task on Fargate gets ECS's own limits anyway.
CONTAINERS_CONF = "[containers]\ndefault_ulimits = []\n"


class ImageError(Exception):
    """A failure worth one line to the user: what failed and what to do."""


def log(message: str) -> None:
    print(f"images: {message}", file=sys.stderr, flush=True)


def _conf_path() -> str:
    path = Path(tempfile.gettempdir()) / "todo-images-containers.conf"
    if not path.exists() or path.read_text() != CONTAINERS_CONF:
        path.write_text(CONTAINERS_CONF)
    return str(path)


def env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF") or _conf_path()}


def podman(*args: str, check: bool = True, capture: bool = True, timeout: float = 1800,
           input_text: str | None = None) -> subprocess.CompletedProcess:
    command = ["podman", *GLOBAL_FLAGS, *args]
    try:
        result = subprocess.run(command, env=env(), text=True, capture_output=capture, timeout=timeout,
                                input=input_text, check=False)
    except subprocess.TimeoutExpired as exc:
        raise ImageError(f"`podman {args[0]}` took longer than {timeout:.0f} s") from exc
    if check and result.returncode != 0:
        detail = (result.stderr or "").strip().splitlines()[-5:] if capture else []
        raise ImageError(f"`podman {' '.join(args[:3])} ...` failed ({result.returncode})"
                         + (": " + " | ".join(detail) if detail else ""))
    return result


def unavailable_reason() -> str | None:
    """Why containers cannot run here, or None when they can."""
    if not shutil.which("podman"):
        return "podman is not installed (tools/debian-packages.sh podman buildah runc uidmap catatonit)"
    if not shutil.which("runc"):
        return "runc is not installed (tools/debian-packages.sh runc)"
    result = podman("info", "--format", "{{.Store.GraphDriverName}}", check=False, timeout=60)
    if result.returncode != 0:
        return f"`podman info` failed: {(result.stderr or '').strip()[-300:]}"
    return None


def image_exists(ref: str) -> bool:
    return podman("image", "exists", ref, check=False, timeout=60).returncode == 0


def container_running(name: str) -> bool:
    result = podman("container", "inspect", "--format", "{{.State.Running}}", name, check=False, timeout=60)
    return result.returncode == 0 and result.stdout.strip() == "true"
