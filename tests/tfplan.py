"""`terraform test` of a module against a mocked AWS provider: plan-only runs whose asserts and
expected failures Terraform itself evaluates (variable validations, locals, resource arguments).

Needs terraform and TF_PLUGIN_MIRROR (a filesystem mirror holding hashicorp/aws); tests marked
`needs_terraform` are skipped without them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MIRROR = os.environ.get("TF_PLUGIN_MIRROR")

needs_terraform = pytest.mark.skipif(
    not MIRROR or shutil.which("terraform") is None,
    reason="needs TF_PLUGIN_MIRROR (a filesystem mirror holding hashicorp/aws) and terraform",
)

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
    mirror, version = tfwork.find_mirror(MIRROR)
    tfwork.apply_shims(tmp_path, tfwork.major(version))  # provider 5.x here: shims as in the offline plan
    module_dir = tmp_path / "modules" / modules[0]
    (module_dir / "tests").mkdir()
    (module_dir / "tests" / "mocked.tftest.hcl").write_text(MOCK_AWS + test, encoding="utf-8")
    config = tmp_path / "terraform.rc"
    config.write_text(tfwork.cli_config(mirror), encoding="utf-8")
    env = tfwork.terraform_env(config)
    for args in (["init", "-backend=false", "-input=false", "-no-color"], ["test", "-no-color"]):
        result = subprocess.run(
            ["terraform", *args], cwd=module_dir, env=env, capture_output=True, text=True, check=False, timeout=600
        )
        assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout
