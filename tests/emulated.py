"""Terraform against the AWS API emulator, for tests that apply a root of their own.

The same steps as a local apply (tools/apply_local.py), without its bookkeeping: the modules
and the root are copied into a work folder, the declared shims of the provider in use are applied
to the copy, Terraform gets the provider from the registry or the filesystem mirror named by
TF_PLUGIN_MIRROR (tools/tfwork.py, Providers) and talks only to a private emulator
(tools/emulator.py) for one account. Skipped when neither gives the provider, like
tests/test_plan_offline.py.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tfhelpers import ROOT, needs_provider_reason, providers_missing

sys.path.insert(0, str(ROOT / "tools"))
import tfwork  # noqa: E402
from emulator import REAL_ACCOUNT_VARIABLES, Emulator  # noqa: E402

TERRAFORM = shutil.which("terraform")
REGION = "ap-northeast-1"
# Tests may apply several roots at once; Terraform's plugin cache (the registry's packages) is
# not safe for concurrent inits, so they take turns for that step only.
INIT_TURN = threading.Lock()

needs_provider = pytest.mark.skipif(providers_missing() is not None, reason=needs_provider_reason())
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
    emulator of `account`; the emulator is stopped on the way out. A lock file the root brings
    holds the registry's init to it (a mirror that lacks the locked version drops it, a shim)."""
    providers = tfwork.find_providers()
    tfwork.apply_shims(work, providers.major, providers.shims(root))
    server = Emulator.start(account, work / "moto.log")
    try:
        # The emulator's credentials and endpoint only: no variable of a real account survives.
        emulator_vars = {k: v for k, v in server.client_env(REGION).items() if os.environ.get(k) != v}
        env = providers.env(work, **emulator_vars, AWS_MAX_ATTEMPTS="1")
        env = {k: v for k, v in env.items() if k not in REAL_ACCOUNT_VARIABLES}
        run = EmulatedRoot(root, server, env)
        with INIT_TURN:
            run.must("init", "-backend=false", "-input=false", *providers.init_args(root))
        yield run
    finally:
        server.stop()
