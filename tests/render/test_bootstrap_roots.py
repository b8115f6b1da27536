"""envs/bootstrap/ENV follows the YAML: each environment's own account, repository and branch,
and, where environments share an account, who creates the account-wide resources and whom each
environment's roles must not reach."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hcl2
from tfhelpers import ROOT, literal


def render(project: Path, env: str = "dev") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "render.py"), "--root", str(project), "render", env],
                          capture_output=True, text=True, check=False, timeout=120)


def bootstrap_call(project: Path, env: str) -> dict:
    with (project / "envs" / "bootstrap" / env / "main.tf").open(encoding="utf-8") as handle:
        (call,) = [literal(m)["bootstrap"] for m in hcl2.load(handle)["module"]]
    return call


def share_one_account(project: Path, account: str = "444444444444") -> None:
    for env in ("dev", "stg", "prod"):
        path = project / "envs" / env / "env.yaml"
        text = path.read_text(encoding="utf-8")
        start = text.index('account_id: "') + len('account_id: "')
        path.write_text(text[:start] + account + text[start + 12:], encoding="utf-8")


def test_each_bootstrap_carries_its_environments_repository_and_branch(project: Path):
    path = project / "envs" / "prod" / "env.yaml"
    path.write_text(path.read_text().replace("  branch: main\n", "  branch: production\n"),
                    encoding="utf-8")
    assert render(project, "prod").returncode == 0
    call = bootstrap_call(project, "prod")
    assert (call["github_repository"], call["github_branch"]) == ("example-org/django-todo-aws", "production")
    assert call["github_apply_role_name"] == "todo-prod-cicd-github-apply-role"
    assert call["state_bucket_name"] == "todo-prod-ops-tfstate-main-s3-333333333333"


def test_in_separate_accounts_every_environment_creates_its_own_account_resources(project: Path):
    for env in ("dev", "stg", "prod"):
        assert render(project, env).returncode == 0
        call = bootstrap_call(project, env)
        assert call["account_peers"] == []
        assert call["github_oidc_provider_arn"] is None


def test_in_a_shared_account_the_first_environment_creates_them_and_the_others_are_peers(project: Path):
    share_one_account(project)
    for env in ("dev", "stg", "prod"):
        assert render(project, env).returncode == 0, render(project, env).stderr
    dev, stg, prod = (bootstrap_call(project, env) for env in ("dev", "stg", "prod"))
    assert dev["github_oidc_provider_arn"] is None and dev["account_peers"] == ["stg", "prod"]
    provider = "arn:aws:iam::444444444444:oidc-provider/token.actions.githubusercontent.com"
    assert stg["github_oidc_provider_arn"] == provider and stg["account_peers"] == ["dev", "prod"]
    assert prod["service_linked_roles"] == {} and prod["account_peers"] == ["dev", "stg"]
    assert "import" not in hcl2.loads((project / "envs" / "bootstrap" / "stg" / "main.tf").read_text())
    # Still one state bucket per environment, each named for its environment.
    assert len({bootstrap_call(project, e)["state_bucket_name"] for e in ("dev", "stg", "prod")}) == 3


def test_an_environment_without_its_folder_is_no_peer(project: Path):
    share_one_account(project)
    (project / "envs" / "stg" / "env.yaml").unlink()
    assert render(project, "dev").returncode == 0
    assert bootstrap_call(project, "dev")["account_peers"] == ["prod"]


def test_an_account_id_in_common_yaml_only_is_still_per_environment(project: Path):
    path = project / "envs" / "dev" / "env.yaml"
    path.write_text(path.read_text().replace('account_id: "111111111111"', 'account_id: "12345"'), encoding="utf-8")
    result = render(project, "dev")
    assert result.returncode == 2
    assert result.stderr.startswith("error: envs/dev/env.yaml: account_id")


def test_a_broken_environment_stops_the_others_render_with_one_line(project: Path):
    snapshot = {p: p.read_bytes() for p in (project / "envs").rglob("*") if p.is_file()}
    path = project / "envs" / "stg" / "env.yaml"
    path.write_text(path.read_text().replace("codepipeline:\n  branch: release", "codepipeline:\n  brnch: release"),
                    encoding="utf-8")
    result = render(project, "dev")
    assert result.returncode == 2
    assert sorted(result.stderr.strip().splitlines()) == [
        "error: envs/stg/env.yaml: codepipeline.branch: required key is missing",
        'error: envs/stg/env.yaml: codepipeline.brnch: unknown key (did you mean "branch"?)']
    assert {p: p.read_bytes() for p in snapshot} == {**snapshot, path: path.read_bytes()}
