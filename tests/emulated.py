"""Terraform against the AWS API emulator, for tests that apply a root of their own.

The same steps as a local apply (tools/apply_local.py), without its bookkeeping: the modules
and the root are copied into a work folder, the declared provider-version shims are applied to
the copy, Terraform installs the provider from the filesystem mirror named by TF_PLUGIN_MIRROR
and talks only to a private emulator (tools/emulator.py) for one account. Skipped without a
mirror, like tests/test_plan_offline.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tfhelpers import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import tfwork  # noqa: E402
from emulator import Emulator  # noqa: E402

MIRROR = os.environ.get("TF_PLUGIN_MIRROR")
TERRAFORM = shutil.which("terraform")
REGION = "ap-northeast-1"

needs_provider = pytest.mark.skipif(
    not (MIRROR and TERRAFORM),
    reason="needs TF_PLUGIN_MIRROR (a Terraform filesystem mirror holding hashicorp/aws) and terraform on PATH",
)


@dataclass
class EmulatedRoot:
    root: Path
    emulator: Emulator
    env: dict[str, str]

    def terraform(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TERRAFORM, *args, "-no-color"],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    def must(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = self.terraform(*args)
        assert result.returncode == 0, f"terraform {args[0]} in {self.root.name}:\n" + (
            result.stdout[-4000:] + result.stderr[-4000:]
        )
        return result

    def client(self, service: str):
        return self.emulator.boto3_client(service, REGION)


def copy_modules(work: Path) -> None:
    shutil.copytree(ROOT / "modules", work / "modules", ignore=shutil.ignore_patterns(".terraform*", "*.md"))


@contextlib.contextmanager
def emulated_root(work: Path, root: Path, account: str) -> Iterator[EmulatedRoot]:
    """`root` (inside `work`, beside work/modules) shimmed, initialised and pointed at a fresh
    emulator of `account`; the emulator is stopped on the way out."""
    mirror = Path(MIRROR).resolve()
    provider_major = tfwork.major(tfwork.provider_version(mirror))
    tfwork.apply_shims(work, provider_major, tfwork.shims_for(provider_major))
    config = work / "terraform.rc"
    config.write_text(tfwork.cli_config(mirror), encoding="utf-8")
    server = Emulator.start(account, work / "moto.log")
    try:
        env = {
            **server.client_env(REGION),
            "TF_CLI_CONFIG_FILE": str(config),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "AWS_MAX_ATTEMPTS": "1",
        }
        env.pop("TF_PLUGIN_CACHE_DIR", None)
        run = EmulatedRoot(root, server, env)
        run.must("init", "-backend=false", "-input=false")
        yield run
    finally:
        server.stop()
