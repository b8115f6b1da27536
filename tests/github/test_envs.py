"""infra/github.py and .github/scripts/envs.py: the facts the workflows take from the YAML."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tfhelpers import ROOT, literal, load_dir

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
    (["envs/bootstrap/dev/main.tf"], []),      # local state, applied by hand
    (["envs/bootstrap/prod/providers.tf"], []),
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


# ---- Each environment's roles ----


def roles_output(root: Path = ROOT) -> dict[str, dict[str, str]]:
    result = run("roles", root=root)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()   # one line for $GITHUB_OUTPUT
    key, _, value = line.partition("=")
    assert key == "roles"
    assert " " not in value, "compact JSON"
    return json.loads(value)


def env_yaml(env: str, root: Path = ROOT) -> dict:
    return yaml.safe_load((root / "envs" / env / "env.yaml").read_text(encoding="utf-8"))


def bootstrap_role_names(env: str) -> dict[str, str]:
    """The role names envs/bootstrap/ENV (generated) gives its bootstrap module."""
    (module,) = [body for block in load_dir(ROOT / "envs" / "bootstrap" / env).get("module", [])
                 for body in literal(block).values()]
    return {"plan": module["github_plan_role_name"], "apply": module["github_apply_role_name"]}


def test_roles_cover_every_environment_in_label_order():
    roles = roles_output()
    assert list(roles) == ENVS
    for entry in roles.values():
        assert set(entry) == {"region", "plan_role_arn", "apply_role_arn"}


def test_each_environment_gets_its_own_accounts_roles():
    roles = roles_output()
    accounts = {env: str(env_yaml(env)["account_id"]) for env in ENVS}
    assert len(set(accounts.values())) == len(ENVS), "one account per environment"
    common = yaml.safe_load((ROOT / "envs" / "common.yaml").read_text(encoding="utf-8"))
    for env, account in accounts.items():
        entry = roles[env]
        assert entry["region"] == env_yaml(env).get("region", common["region"])
        names = bootstrap_role_names(env)
        assert entry["plan_role_arn"] == f"arn:aws:iam::{account}:role/{names['plan']}"
        assert entry["apply_role_arn"] == f"arn:aws:iam::{account}:role/{names['apply']}"
        assert f"-{env}-" in names["plan"] and f"-{env}-" in names["apply"]
        assert names["plan"] != names["apply"]
        others = [a for e, a in accounts.items() if e != env]
        assert not [a for a in others if a in entry["plan_role_arn"] + entry["apply_role_arn"]]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A private copy of the YAML envs.py reads."""
    shutil.copy(ROOT / "naming.yaml", tmp_path / "naming.yaml")
    (tmp_path / "envs").mkdir()
    shutil.copy(ROOT / "envs" / "common.yaml", tmp_path / "envs" / "common.yaml")
    for env in ENVS:
        (tmp_path / "envs" / env).mkdir()
        shutil.copy(ROOT / "envs" / env / "env.yaml", tmp_path / "envs" / env / "env.yaml")
    return tmp_path


def test_roles_follow_each_env_yaml(project: Path):
    path = project / "envs" / "stg" / "env.yaml"
    account = str(env_yaml("stg", project)["account_id"])
    path.write_text(path.read_text(encoding="utf-8").replace(account, "444444444444"), encoding="utf-8")
    roles = roles_output(project)
    assert ":444444444444:" in roles["stg"]["plan_role_arn"]
    assert ":444444444444:" in roles["stg"]["apply_role_arn"]
    assert roles["dev"] == roles_output()["dev"]


def test_roles_leave_out_an_environment_without_its_folder(project: Path):
    (project / "envs" / "stg" / "env.yaml").unlink()
    assert list(roles_output(project)) == ["dev", "prod"]


def test_roles_without_any_environment_is_one_line(project: Path):
    for env in ENVS:
        (project / "envs" / env / "env.yaml").unlink()
    result = run("roles", root=project)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == ["error: envs/: no environment has an env.yaml"]


def test_roles_of_a_broken_environment_is_one_line(project: Path):
    path = project / "envs" / "prod" / "env.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nbogus_key: 1\n", encoding="utf-8")
    result = run("roles", root=project)
    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: envs/prod/env.yaml") and "bogus_key" in line


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
