"""The base images: the real ones when a registry answers, stand-ins built from Debian otherwise.

A stand-in mimics the layout the Dockerfile relies on, not the whole official image:

- python: Debian bookworm's python3.11 (+ python3.11-venv) in a minbase root file system (what
  debian:bookworm-slim is), with pip, setuptools and wheel installed under /usr/local by pip
  itself from hash-checked wheels (tools/standin/python-tools.txt), `python` and `python3` in
  /usr/local/bin, Debian's EXTERNALLY-MANAGED marker removed. It differs from the official
  image in its Python build (Debian's, 3.11.2 with Debian's security fixes, not 3.11.14
  compiled from source) and in having Python's files under /usr/lib, not /usr/local/lib.
- nginx: Debian bookworm's nginx 1.22 in a minbase root file system instead of nginx 1.28 on
  Alpine, run as UID 101 (user `nginx`, as in nginx-unprivileged), mime.types at
  /etc/nginx/mime.types, logs linked to stdout/stderr; CMD, USER, EXPOSE and STOPSIGNAL as in
  the official image.

Each stand-in is tagged with a hash of its recipe (this file's recipe, the wheel list, the apt
sources) and rebuilt only when that hash changes.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .podman import ROOT, ImageError, image_exists, log, podman

DOCKERFILE = ROOT / "app" / "Dockerfile"
STANDIN = ROOT / "tools" / "standin"
PYTHON_TOOLS = STANDIN / "python-tools.txt"
APT_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SUITE = "bookworm"
PULL_TIMEOUT = 20

# Like debian:bookworm-slim: no documentation, manual pages or translations in the image.
SLIM = [f"--dpkgopt=path-exclude={p}" for p in ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/locale/*",
                                                "/usr/share/info/*")]


@dataclass(frozen=True)
class StandIn:
    name: str  # the build argument it replaces
    repository: str
    version: str
    packages: tuple[str, ...]
    hooks: tuple[str, ...]  # mmdebstrap --customize-hook commands ($1 is the root file system)
    changes: tuple[str, ...]  # podman import --change instructions
    differs: str  # one line for the build output

    def recipe_key(self, extra: str) -> str:
        text = json.dumps([self.packages, self.hooks, self.changes, SLIM, SUITE, extra], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


PYTHON = StandIn(
    name="PYTHON_IMAGE",
    repository="localhost/todo-standin/python",
    version="3.11-slim-bookworm",
    packages=("python3.11", "python3.11-venv", "ca-certificates"),
    hooks=(
        # The official image's Python is not dpkg's: no PEP 668 marker, pip free to install.
        'rm -f "$1"/usr/lib/python3.11/EXTERNALLY-MANAGED',
        'chroot "$1" python3.11 /tmp/wheels/pip-24.0-py3-none-any.whl/pip install --quiet --no-index'
        " --find-links /tmp/wheels --require-hashes --requirement /tmp/wheels/python-tools.txt"
        " --no-cache-dir --root-user-action=ignore --disable-pip-version-check",
        'ln -s /usr/bin/python3.11 "$1"/usr/local/bin/python && ln -s /usr/bin/python3.11 "$1"/usr/local/bin/python3',
        'rm -rf "$1"/tmp/wheels',
    ),
    changes=(
        "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "ENV LANG=C.UTF-8",
        'CMD ["python3"]',
    ),
    differs="Debian's python3.11 (3.11.2 + Debian fixes) instead of 3.11.14 built into /usr/local; "
            "pip/setuptools/wheel under /usr/local by pip as in the official image",
)

NGINX = StandIn(
    name="NGINX_IMAGE",
    repository="localhost/todo-standin/nginx-unprivileged",
    version="1.22-bookworm",
    packages=("nginx",),
    hooks=(
        'chroot "$1" groupadd --system --gid 101 nginx',
        'chroot "$1" useradd --system --uid 101 --gid 101 --no-create-home --home-dir /nonexistent'
        " --shell /sbin/nologin nginx",
        'ln -sf /dev/stdout "$1"/var/log/nginx/access.log && ln -sf /dev/stderr "$1"/var/log/nginx/error.log',
        'rm -f "$1"/etc/nginx/sites-enabled/default',
    ),
    changes=(
        "USER 101",
        "EXPOSE 8080",
        "STOPSIGNAL SIGQUIT",
        'CMD ["nginx", "-g", "daemon off;"]',
    ),
    differs="Debian's nginx 1.22 on bookworm instead of nginx 1.28 on Alpine; same UID 101, port 8080, "
            "/etc/nginx layout and CMD",
)

STANDINS = {s.name: s for s in (PYTHON, NGINX)}


def dockerfile_defaults() -> dict[str, str]:
    """The base images app/Dockerfile names (its ARG defaults): the one list of real bases."""
    found = dict(re.findall(r"^ARG (\w+_IMAGE)=(\S+)$", DOCKERFILE.read_text(), flags=re.M))
    missing = set(STANDINS) - set(found)
    if missing:
        raise ImageError(f"{DOCKERFILE}: no ARG default for {', '.join(sorted(missing))}")
    return found


def _pull(ref: str) -> bool:
    if image_exists(ref):
        return True
    log(f"pulling {ref} (at most {PULL_TIMEOUT} s)")
    try:
        result = podman("pull", "--quiet", ref, check=False, timeout=PULL_TIMEOUT)
    except ImageError:
        return False
    if result.returncode != 0:
        log(f"  not pulled: {(result.stderr or '').strip().splitlines()[-1:]}")
    return result.returncode == 0


def _download_wheels(folder: Path) -> None:
    shutil.copy(PYTHON_TOOLS, folder / PYTHON_TOOLS.name)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--require-hashes", "--requirement", str(PYTHON_TOOLS), "--dest", str(folder)],
        capture_output=True, text=True, timeout=600, check=False)
    if result.returncode != 0:
        raise ImageError(f"pip download of {PYTHON_TOOLS.name} failed: {result.stderr.strip()[-300:]}")


def _build_standin(standin: StandIn, ref: str, key: str) -> None:
    if not shutil.which("mmdebstrap"):
        raise ImageError("mmdebstrap is not installed (tools/debian-packages.sh mmdebstrap)")
    with tempfile.TemporaryDirectory(prefix="standin-") as folder:
        work = Path(folder)
        hooks = list(standin.hooks)
        if standin is PYTHON:
            (work / "wheels").mkdir()
            _download_wheels(work / "wheels")
            hooks.insert(0, f"copy-in {work / 'wheels'} /tmp")
        tar = work / "rootfs.tar"
        command = ["mmdebstrap", "--quiet", "--variant=minbase", f"--include={','.join(standin.packages)}",
                   *SLIM, *(f"--customize-hook={h}" for h in hooks), SUITE, str(tar), "-"]
        with APT_SOURCES.open() as sources:
            result = subprocess.run(command, stdin=sources, capture_output=True, text=True, timeout=1200,
                                    check=False)
        if result.returncode != 0:
            raise ImageError(f"mmdebstrap ({standin.repository}) failed: {result.stderr.strip()[-400:]}")
        changes = [*standin.changes, f"LABEL org.opencontainers.image.description=stand-in-{key}"]
        podman("import", "--quiet", *(f"--change={c}" for c in changes), str(tar), ref)


def _prune_old(standin: StandIn, keep: str) -> None:
    listing = podman("images", "--format", "{{.Repository}}:{{.Tag}}", standin.repository, check=False)
    for ref in listing.stdout.split():
        if ref != keep:
            podman("rmi", ref, check=False)


def resolve() -> tuple[dict[str, str], list[str]]:
    """Build arguments selecting the bases, and a line per stand-in used (empty: all real)."""
    args, notes = {}, []
    sources = APT_SOURCES.read_text() if APT_SOURCES.exists() else ""
    extra_key = PYTHON_TOOLS.read_text() + sources
    for name, real in dockerfile_defaults().items():
        if name not in STANDINS:
            continue
        if _pull(real):
            args[name] = real
            continue
        standin = STANDINS[name]
        ref = f"{standin.repository}:{standin.version}-{standin.recipe_key(extra_key)}"
        if image_exists(ref):
            log(f"{name}: stand-in {ref} (cached)")
        else:
            log(f"{name}: {real} unreachable; building the stand-in {ref} from Debian {SUITE} (mmdebstrap)")
            if not APT_SOURCES.exists():
                raise ImageError(f"{APT_SOURCES} is missing: the stand-ins install from Debian's archive")
            _build_standin(standin, ref, ref.rsplit("-", 1)[1])
            _prune_old(standin, ref)
        args[name] = ref
        notes.append(f"STAND-IN {name}={ref} replaces {real}: {standin.differs}")
    return args, notes


def python_standin_ref() -> str:
    """The stand-in Python base (the seed's comparison image builds on it when needed)."""
    sources = APT_SOURCES.read_text() if APT_SOURCES.exists() else ""
    return f"{PYTHON.repository}:{PYTHON.version}-{PYTHON.recipe_key(PYTHON_TOOLS.read_text() + sources)}"
