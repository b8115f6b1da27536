"""tools/plan_offline.py: an offline validate + mocked plan of every environment.

The full run needs terraform on PATH and the AWS provider: from the registry, or from the
filesystem mirror TF_PLUGIN_MIRROR names; without either it is skipped. The fast tests
check the tool's refusal to run and its shims.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tfhelpers import needs_provider_reason, providers_missing

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "plan_offline.py"
sys.path.insert(0, str(TOOL.parent))

import plan_offline  # noqa: E402

NO_REGISTRY = {
    # A proxy that refuses every connection: the registry is out of reach, as on a machine
    # without a network, whatever this one has; an empty plugin cache holds nothing either.
    "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost",
}


def run_tool(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=900)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not on PATH")
def test_without_mirror_or_registry_exits_2_with_one_line(tmp_path: Path) -> None:
    """No mirror: the registry, through an ordinary init; out of reach, one line says what to do."""
    env = {k: v for k, v in os.environ.items() if k != "TF_PLUGIN_MIRROR"}
    result = run_tool("dev", "stg", env={**env, **NO_REGISTRY, "TF_PLUGIN_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("plan_offline: terraform init cannot reach the provider registry (")
    assert "set TF_PLUGIN_MIRROR=DIR" in lines[0] and "docs/operations.md" in lines[0]
    # it stopped at the first environment's init, and said where the provider was to come from
    assert result.stdout.splitlines()[0].startswith("aws provider from the registry")
    assert "stg:" not in result.stdout


def test_empty_mirror_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_tool("--mirror", str(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no AWS provider" in lines[0], result.stderr


def test_every_shim_matches_the_current_code(tmp_path: Path) -> None:
    """A shim matching nothing is stale: the code it works around has changed."""
    shutil.copytree(ROOT / "modules", tmp_path / "modules")
    shutil.copytree(ROOT / "envs" / "prod", tmp_path / "envs" / "prod")
    assert plan_offline.apply_shims(tmp_path, provider_major=5) == []
    ssm = (tmp_path / "modules" / "ssm" / "main.tf").read_text(encoding="utf-8")
    assert not re.search(r"^ephemeral |\bephemeral\.", ssm, flags=re.MULTILINE)
    # line numbers are kept, so errors point at the real lines of the module
    original = (ROOT / "modules" / "ssm" / "main.tf").read_text(encoding="utf-8")
    assert ssm.count("\n") == original.count("\n")


def test_plan_tests_mock_every_provider_alias() -> None:
    aliases, region = plan_offline.provider_aliases(ROOT / "envs" / "prod")
    assert "" in aliases and len(aliases) > 1
    text = plan_offline.plan_test(aliases, region, "plan")
    assert text.count('mock_provider "aws"') == len(aliases)
    assert text.count("override_during = plan") == len(aliases)
    assert "key/" in text and region in text


@pytest.mark.skipif(providers_missing() is not None, reason=needs_provider_reason())
@pytest.mark.parametrize("env_name", plan_offline.DEFAULT_ENVS)
def test_validate_and_mocked_plan(env_name: str) -> None:
    result = run_tool(env_name)
    assert result.returncode == 0, result.stdout + result.stderr
    for step in ("init", "validate", "plan"):
        assert f"{env_name}: {step} ok" in result.stdout
    assert "matched nothing" not in result.stdout
