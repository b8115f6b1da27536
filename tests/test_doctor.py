"""`make doctor` and the one terraform version check every tool makes, against fake binaries
on a PATH of their own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCTOR = ROOT / "tools" / "doctor.py"
HINT = "https://developer.hashicorp.com/terraform/install"


def fake(folder: Path, name: str, output: str = "") -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\necho '{output}'\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def listening():
    """Two ports something answers on, as PostgreSQL and Redis would."""
    servers = [socket.create_server(("127.0.0.1", 0)) for _ in range(2)]
    yield [server.getsockname()[1] for server in servers]
    for server in servers:
        server.close()


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return server.getsockname()[1]


def run(script: Path, bin_dir: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/tmp"), **variables}
    return subprocess.run([sys.executable, str(script), *args], env=env, capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)


def complete(bin_dir: Path, terraform: str = "1.11.4") -> None:
    fake(bin_dir, "terraform", f"Terraform v{terraform}")
    for name in ("nginx", "chromium", "node", "npm"):
        fake(bin_dir, name)


def test_everything_required_present(tmp_path: Path, listening: list[int]):
    complete(tmp_path)
    result = run(DOCTOR, tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{listening[0]}/x",
                 REDIS_URL=f"redis://127.0.0.1:{listening[1]}/3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"ok       terraform: {tmp_path}/terraform" in result.stdout.splitlines()
    assert f"ok       DATABASE_URL: 127.0.0.1:{listening[0]} answers" in result.stdout.splitlines()
    # podman is optional: reported with how to get it, and not a failure.
    assert any(line.startswith("optional podman (") for line in result.stdout.splitlines())


def test_an_old_terraform_first_on_path_is_named_with_both_versions(tmp_path: Path, listening: list[int]):
    complete(tmp_path, terraform="1.0.3")
    result = run(DOCTOR, tmp_path, DATABASE_URL=f"postgres://127.0.0.1:{listening[0]}/x",
                 REDIS_URL=f"redis://127.0.0.1:{listening[1]}")
    assert result.returncode == 1
    assert f"MISSING  terraform: {tmp_path}/terraform is 1.0.3; the roots need >= 1.11 ({HINT})" \
        in result.stdout.splitlines()
    assert result.stderr == "doctor: 1 required prerequisite(s) missing\n"


def test_an_empty_machine_lists_everything_required_with_how_to_get_it(tmp_path: Path):
    result = run(DOCTOR, tmp_path, DATABASE_URL=f"postgres://127.0.0.1:{closed_port()}/x")
    assert result.returncode == 1
    missing = [line for line in result.stdout.splitlines() if line.startswith("MISSING")]
    assert [line.split(":")[0].split(" (")[0] for line in missing] == [
        "MISSING  terraform", "MISSING  nginx", "MISSING  chromium", "MISSING  node", "MISSING  npm",
        "MISSING  DATABASE_URL", "MISSING  REDIS_URL"]
    assert f"MISSING  terraform: not found on PATH; install Terraform >= 1.11 ({HINT})" in missing
    assert any("DATABASE_URL: nothing answers at 127.0.0.1:" in line for line in missing)
    assert any("REDIS_URL: not set; export REDIS_URL=redis://" in line for line in missing)
    assert result.stderr == "doctor: 7 required prerequisite(s) missing\n"


@pytest.mark.parametrize("tool, args", [("plan_offline", ("dev",)), ("apply_local", ("apply", "dev"))])
def test_tools_stop_at_an_old_terraform_with_one_line(tmp_path: Path, tool: str, args: tuple[str, ...]):
    fake(tmp_path, "terraform", "Terraform v1.0.3")
    mirror = tmp_path / "mirror" / "registry.terraform.io" / "hashicorp" / "aws" / "6.0.0" / "linux_amd64"
    mirror.mkdir(parents=True)
    (mirror / "terraform-provider-aws_v6.0.0").write_text("")
    result = run(ROOT / "tools" / f"{tool}.py", tmp_path, *args, TF_PLUGIN_MIRROR=str(tmp_path / "mirror"))
    assert result.returncode == 2
    assert result.stderr == (f"{tool}: terraform: {tmp_path}/terraform is 1.0.3; the roots need >= 1.11 "
                             f"({HINT})\n")


def test_render_stops_at_an_old_terraform_with_one_line(tmp_path: Path):
    old = fake(tmp_path, "terraform", "Terraform v1.0.3")
    result = run(ROOT / "render.py", tmp_path, "check", "dev", TERRAFORM=str(old))
    assert result.returncode == 2
    assert result.stderr == f"error: terraform: {old} is 1.0.3; the roots need >= 1.11 ({HINT})\n"
