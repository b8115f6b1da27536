"""infra/github.py and .github/scripts/envs.py: the facts the workflows take from the YAML."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tfhelpers import ROOT

from infra.github import TEXT_LIMIT, affected_envs, plan_summary

SCRIPT = ROOT / ".github" / "scripts" / "envs.py"
ENVS = ["dev", "stg", "prod"]


def run(*args: str, root: Path = ROOT, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), *args], input=stdin,
                          capture_output=True, text=True, check=False, timeout=60)


# ---- Which environments ----


@pytest.mark.parametrize(("paths", "expected"), [
    (["modules/ecs/main.tf"], ENVS),
    (["templates/ecs.tf.j2"], ENVS),
    (["naming.yaml"], ENVS),
    (["envs/common.yaml"], ENVS),
    (["envs/stg/ecs.tf"], ["stg"]),
    (["envs/prod/env.yaml", "envs/dev/rds.tf"], ["dev", "prod"]),
    (["envs/bootstrap/github_oidc.tf"], []),   # local state, applied by hand
    (["README.md", "app/todo/views.py"], []),
    (["envs/qa/env.yaml"], []),                # not an environment (yet)
])
def test_affected_environments(paths: list[str], expected: list[str]):
    assert affected_envs(paths, ENVS) == expected


def test_affected_reads_paths_from_stdin():
    result = run("affected", stdin="envs/prod/rds.tf\n\nenvs/dev/env.yaml\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["dev", "prod"]


@pytest.mark.parametrize(("branch", "expected"), [
    ("develop", ["dev"]), ("release", ["stg"]), ("main", ["prod"]), ("feature/x", []),
])
def test_a_push_applies_the_environments_of_its_branch(branch: str, expected: list[str]):
    result = run("branch", branch)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected


# ---- Plan summary ----

PLAN = {
    "resource_changes": [
        {"address": "module.ecs.aws_ecs_service.this", "change": {"actions": ["update"]}},
        {"address": "module.rds.aws_db_instance.this", "change": {"actions": ["delete", "create"]}},
        {"address": "module.network.aws_nat_gateway.this[\"ap-northeast-1c\"]", "change": {"actions": ["create"]}},
        {"address": "module.network.aws_vpc.this", "change": {"actions": ["no-op"]}},
        {"address": "data.aws_region.current", "change": {"actions": ["read"]}},
        {"address": "module.batch.aws_sqs_queue.old", "change": {"actions": ["delete"]}},
    ],
    "resource_drift": [{"address": "module.ecs.aws_ecs_service.this"}],
}


def test_summary_counts_and_lists_every_change():
    text = plan_summary("prod", PLAN, "Plan: 2 to add, 1 to change, 2 to destroy.")
    lines = text.splitlines()
    assert lines[0] == "### `prod`: 1 to create, 1 to update, 1 to replace, 1 to destroy"
    assert "**This plan destroys or replaces resources.**" in lines
    assert "| replace | `module.rds.aws_db_instance.this` |" in lines
    assert "| destroy | `module.batch.aws_sqs_queue.old` |" in lines
    assert not [line for line in lines if "aws_vpc.this" in line or "data.aws_region" in line]
    assert "Changed outside Terraform: `module.ecs.aws_ecs_service.this`" in lines
    assert "Plan: 2 to add, 1 to change, 2 to destroy." in text


def test_summary_of_an_empty_plan():
    assert plan_summary("dev", {"resource_changes": []}).splitlines() == ["### `dev`: no changes"]


def test_summary_text_is_cut_to_fit_a_comment():
    text = plan_summary("dev", {}, "x" * (TEXT_LIMIT * 3))
    assert len(text) < TEXT_LIMIT + 500
    assert f"{TEXT_LIMIT * 2} more characters in the job log" in text


def test_summary_cli_reads_the_saved_plan(tmp_path: Path):
    (tmp_path / "plan.json").write_text(json.dumps(PLAN), encoding="utf-8")
    (tmp_path / "plan.txt").write_text("Plan: 2 to add", encoding="utf-8")
    result = run("summary", "prod", str(tmp_path / "plan.json"), str(tmp_path / "plan.txt"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == plan_summary("prod", PLAN, "Plan: 2 to add")


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "plan.json: not JSON from `terraform show -json` (line 1)"),
    ("[1, 2]", "plan.json: not a plan from `terraform show -json`"),
])
def test_summary_cli_bad_input_is_one_line(tmp_path: Path, content: str, message: str):
    (tmp_path / "plan.json").write_text(content, encoding="utf-8")
    result = run("summary", "dev", str(tmp_path / "plan.json"))
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and line.endswith(message)


def test_summary_cli_missing_file_is_one_line(tmp_path: Path):
    result = run("summary", "dev", str(tmp_path / "absent.json"))
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"error: {tmp_path / 'absent.json'}: cannot read: No such file or directory"]
