"""envs/bootstrap/bootstrap.auto.tfvars follows every environment's YAML (GitHub's OIDC roles),
and .github/scripts/envs.py derives the same role names from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import hcl2
from tfhelpers import ROOT, literal

SCRIPT = ROOT / ".github" / "scripts" / "envs.py"


def run(*args: str, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), "--root", str(root), *args],
                          capture_output=True, text=True, check=False, timeout=60)


def render(project: Path, env: str = "dev") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "render.py"), "--root", str(project), "render", env],
                          capture_output=True, text=True, check=False, timeout=120)


def tfvars(project: Path) -> dict:
    with (project / "envs" / "bootstrap" / "bootstrap.auto.tfvars").open(encoding="utf-8") as handle:
        return literal(hcl2.load(handle))


def test_role_arns_come_from_naming_and_the_account(project: Path):
    result = run("roles", root=project)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "region=ap-northeast-1",
        "plan_role_arn=arn:aws:iam::123456789012:role/todo-shared-cicd-github-plan-role",
        "apply_role_arn=arn:aws:iam::123456789012:role/todo-shared-cicd-github-apply-role",
    ]
    # ...and they are the names the bootstrap root gives its roles.
    assert render(project).returncode == 0
    values = tfvars(project)
    assert result.stdout.count(values["github_plan_role_name"]) == 1
    assert result.stdout.count(values["github_apply_role_name"]) == 1


def test_bootstrap_tfvars_carry_each_environments_repository_and_branch(project: Path):
    path = project / "envs" / "prod" / "env.yaml"
    text = path.read_text()
    assert "\ncodepipeline:\n" in text and "branch:" not in text
    path.write_text(text.replace("\ncodepipeline:\n", "\ncodepipeline:\n  branch: production\n"), encoding="utf-8")
    # rendering dev rewrites the shared tfvars from every environment, prod's new branch included
    result = render(project, "dev")
    assert result.returncode == 0, result.stderr
    environments = tfvars(project)["github_environments"]
    assert environments["prod"] == {"repository": "example-org/django-todo-aws", "branch": "production"}
    assert environments["dev"]["branch"] == "develop"
    assert json.loads(run("branch", "production", root=project).stdout) == ["prod"]


def test_an_environment_without_its_folder_is_left_out(project: Path):
    (project / "envs" / "stg" / "env.yaml").unlink()
    assert render(project, "dev").returncode == 0
    assert set(tfvars(project)["github_environments"]) == {"dev", "prod"}


def test_a_broken_environment_stops_the_others_render_with_one_line(project: Path):
    before = (project / "envs").rglob("*")
    snapshot = {p: p.read_bytes() for p in before if p.is_file()}
    path = project / "envs" / "stg" / "env.yaml"
    path.write_text(path.read_text().replace("codepipeline:\n  branch: release", "codepipeline:\n  brnch: release"),
                    encoding="utf-8")
    result = render(project, "dev")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        'error: envs/stg/env.yaml: codepipeline.brnch: unknown key (did you mean "branch"?)']
    assert {p: p.read_bytes() for p in snapshot} == {**snapshot, path: path.read_bytes()}
    script = run("branch", "main", root=project)
    assert script.returncode == 2 and script.stderr.startswith("error: envs/stg/env.yaml: codepipeline.brnch")
