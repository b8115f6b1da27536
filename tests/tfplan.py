"""`terraform test` of a module against a mocked AWS provider: plan-only runs whose asserts and
expected failures Terraform itself evaluates (variable validations, locals, resource arguments).

Needs terraform and the AWS provider, from the registry or the filesystem mirror TF_PLUGIN_MIRROR
names (tools/tfwork.py, Providers); tests marked `needs_terraform` are skipped without them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tfhelpers import ROOT, needs_provider_reason, providers_missing

needs_terraform = pytest.mark.skipif(providers_missing() is not None, reason=needs_provider_reason())

# The data sources the modules read, answered as in account 123456789012 of ap-northeast-1.
MOCK_AWS = """
mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "ap-northeast-1", region = "ap-northeast-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}
"""


def terraform_test(tmp_path: Path, modules: list[str], test: str) -> str:
    """Copy `modules` (the first is the one tested; the others are what it sources), apply the
    provider shims of the offline plan, run `terraform test` with `test` as its one test file;
    assert it passed and return its output."""
    sys.path.insert(0, str(ROOT / "tools"))
    import tfwork

    for module in modules:
        shutil.copytree(ROOT / "modules" / module, tmp_path / "modules" / module)
    providers = tfwork.find_providers()  # the registry, or TF_PLUGIN_MIRROR's mirror
    module_dir = tmp_path / "modules" / modules[0]
    # a mirror's provider 5.x: shims as in the offline plan
    tfwork.apply_shims(tmp_path, providers.major, providers.shims(module_dir, tfwork.MOCK))
    (module_dir / "tests").mkdir()
    (module_dir / "tests" / "mocked.tftest.hcl").write_text(MOCK_AWS + test, encoding="utf-8")
    env = providers.env(tmp_path)
    for args in (["init", "-backend=false", "-input=false", "-no-color"], ["test", "-no-color"]):
        result = subprocess.run(
            ["terraform", *args], cwd=module_dir, env=env, capture_output=True, text=True, check=False, timeout=600
        )
        assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
