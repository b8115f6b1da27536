"""Security and behaviour of modules/codepipeline and app/buildspec.yml.

The module is read from its HCL. The buildspec is read as YAML and its
commands are also run, phase by phase as CodeBuild would, against stub `aws`
and `docker` commands, to prove the migration gate and the image tags.
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
from tfhelpers import ROOT, blocks, data_sources, literal, module_fixture, resources, variables_of

MODULE = "codepipeline"
BUILDSPEC = ROOT / "app" / "buildspec.yml"
NAMES_KEYS = {
    "connection",
    "pipeline",
    "artifact_bucket",
    "build_project",
    "build_log_group",
    "pipeline_role",
    "build_role",
    "pipeline_policy",
    "build_policy",
}
# Actions AWS only authorises on "*" (no resource-level permissions).
STAR_RESOURCE_ACTIONS = {"ecr:GetAuthorizationToken", "ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"}
PASSED_ROLES = {"${var.execution_role_arn}", "${var.task_role_arn}"}


parsed = module_fixture(MODULE)


@pytest.fixture(scope="module")
def pipeline(parsed) -> dict[str, Any]:
    return resources(parsed, "aws_codepipeline")["this"]


@pytest.fixture(scope="module")
def project(parsed) -> dict[str, Any]:
    return resources(parsed, "aws_codebuild_project")["this"]


def statements(parsed) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, statement)
        for name, document in data_sources(parsed, "aws_iam_policy_document").items()
        for statement in blocks(document, "statement")
    ]


def action(pipeline: dict[str, Any], stage_name: str) -> dict[str, Any]:
    stage = next(s for s in blocks(pipeline, "stage") if s["name"] == stage_name)
    (only,) = blocks(stage, "action")
    return only


def test_names_has_exactly_the_named_resources(parsed):
    assert set(re.findall(r"(\w+)\s*=\s*string", variables_of(parsed)["names"]["type"])) == NAMES_KEYS


# ---- Source connection ----


def test_connection_is_a_github_connection(parsed):
    connection = resources(parsed, "aws_codestarconnections_connection")["this"]
    assert connection == {"name": "${var.names.connection}", "provider_type": "GitHub"}


def test_source_uses_the_connection_without_polling(pipeline):
    source = action(pipeline, "Source")
    assert (source["category"], source["owner"], source["provider"]) == ("Source", "AWS", "CodeStarSourceConnection")
    config = source["configuration"]
    assert config["ConnectionArn"] == "${aws_codestarconnections_connection.this.arn}"
    assert config["FullRepositoryId"] == "${var.repository}"
    assert config["BranchName"] == "${var.branch}"
    assert config["OutputArtifactFormat"] == "CODE_ZIP"
    assert config["DetectChanges"] == "false"


@pytest.mark.parametrize("repository", ["django-todo", "owner/", "/name", "owner/name/extra", "own er/name"])
def test_repository_validation_rejects_non_owner_name(parsed, repository):
    condition = variables_of(parsed)["repository"]["validation"][0]["condition"]
    pattern = re.search(r'regex\("(.+?)", var\.repository\)', condition).group(1)
    assert re.fullmatch(pattern, "example-org/django-todo")
    assert not re.fullmatch(pattern, repository)


# ---- Artifact bucket ----


def test_artifact_bucket_is_the_shared_secure_bucket_with_the_key(parsed):
    (module,) = [literal(m)["artifact_bucket"] for m in parsed["module"]]
    assert module["source"] == "../s3_bucket"
    assert module["name"] == "${var.names.artifact_bucket}"
    assert module["kms_key_arn"] == "${var.kms_key_arn}"
    assert module["versioning"] is True
    assert module["expiration_days"] == "${var.artifact_expiration_days}"


# ---- Build project ----


def test_build_is_encrypted_with_the_key(parsed, project):
    assert project["encryption_key"] == "${var.kms_key_arn}"
    (artifacts,) = blocks(project, "artifacts")
    assert artifacts["type"] == "CODEPIPELINE"
    assert artifacts.get("encryption_disabled", False) is False
    log_group = resources(parsed, "aws_cloudwatch_log_group")["build"]
    assert log_group["kms_key_id"] == "${var.kms_key_arn}"
    assert log_group["retention_in_days"] == "${var.log_retention_days}"
    (logs,) = blocks(project, "logs_config")
    (cloudwatch,) = blocks(logs, "cloudwatch_logs")
    assert cloudwatch == {"status": "ENABLED", "group_name": "${aws_cloudwatch_log_group.build.name}"}


def test_build_runs_the_repository_buildspec_outside_the_vpc(project):
    (source,) = blocks(project, "source")
    assert source == {"type": "CODEPIPELINE", "buildspec": "app/buildspec.yml"}
    assert BUILDSPEC.is_file()
    assert "vpc_config" not in project
    (environment,) = blocks(project, "environment")
    assert environment["type"] == "LINUX_CONTAINER"
    assert environment["image"] == "${var.build_image}"
    assert environment["privileged_mode"] is True


def test_build_environment_variables_are_plaintext_and_complete(parsed, project):
    (environment,) = blocks(project, "environment")
    assert "environment_variable" not in environment  # only the dynamic block below
    (dynamic,) = [d["environment_variable"] for d in environment["dynamic"]]
    assert dynamic["for_each"] == "${local.build_environment_variables}"
    (content,) = dynamic["content"]
    assert content["type"] == "PLAINTEXT"
    local_values = next(literal(b) for b in parsed["locals"] if "build_environment_variables" in b)
    names = set(local_values["build_environment_variables"])
    used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", BUILDSPEC.read_text()))
    provided_elsewhere = {"AWS_REGION", "COMMIT_ID", "CODEBUILD_RESOLVED_SOURCE_VERSION", "CODEBUILD_BUILD_SUCCEEDING"}
    computed = {"IMAGE_TAG", "APP_IMAGE", "PROXY_IMAGE", "BATCH_TASK_FAMILIES"}
    assert used - provided_elsewhere - computed <= names
    assert {
        "AWS_ACCOUNT_ID",
        "APP_REPOSITORY_URL",
        "PROXY_REPOSITORY_URL",
        "CLUSTER_NAME",
        "MIGRATE_TASK_FAMILY",
        "BATCH_TASK_FAMILIES",
        "SUBNET_IDS",
        "SECURITY_GROUP_ID",
        "APP_CONTAINER_NAME",
        "PROXY_CONTAINER_NAME",
    } == names


# ---- Pipeline ----


def test_pipeline_is_v2_and_queued(pipeline):
    assert pipeline["pipeline_type"] == "V2"
    assert pipeline["execution_mode"] == "QUEUED"


def test_push_to_the_branch_triggers_the_pipeline(pipeline):
    (trigger,) = blocks(pipeline, "trigger")
    assert trigger["provider_type"] == "CodeStarSourceConnection"
    (git,) = blocks(trigger, "git_configuration")
    assert git["source_action_name"] == action(pipeline, "Source")["name"]
    (push,) = blocks(git, "push")
    (branches,) = blocks(push, "branches")
    assert branches["includes"] == ["${var.branch}"]


def test_artifact_store_is_encrypted_with_the_key(pipeline):
    (store,) = blocks(pipeline, "artifact_store")
    assert store["type"] == "S3"
    assert store["location"] == "${module.artifact_bucket.id}"
    assert blocks(store, "encryption_key") == [{"id": "${var.kms_key_arn}", "type": "KMS"}]


def test_stages_build_then_deploy_the_image_definitions(pipeline):
    assert [s["name"] for s in blocks(pipeline, "stage")] == ["Source", "Build", "Deploy"]
    build = action(pipeline, "Build")
    assert build["provider"] == "CodeBuild"
    assert build["configuration"]["ProjectName"] == "${aws_codebuild_project.this.name}"
    assert "#{SourceVariables.CommitId}" in build["configuration"]["EnvironmentVariables"]
    assert action(pipeline, "Source")["namespace"] == "SourceVariables"
    assert build["output_artifacts"] == ["build_output"]
    deploy = action(pipeline, "Deploy")
    assert (deploy["category"], deploy["provider"]) == ("Deploy", "ECS")
    assert deploy["input_artifacts"] == ["build_output"]
    assert deploy["configuration"]["FileName"] == "imagedefinitions.json"
    assert deploy["configuration"]["ClusterName"] == "${var.cluster_name}"
    assert deploy["configuration"]["ServiceName"] == "${var.service_name}"


# ---- IAM ----


def test_no_wildcard_action_in_any_policy_document(parsed):
    found = statements(parsed)
    assert len(found) > 10
    for name, statement in found:
        assert "not_actions" not in statement, name
        for act in statement["actions"]:
            assert "*" not in act, (name, act)


def test_star_resource_only_where_aws_requires_it(parsed):
    for name, statement in statements(parsed):
        if "*" not in statement.get("resources", []):
            continue
        assert statement["resources"] == ["*"], name
        if statement["actions"] == ["ecs:ListTasks"]:
            assert blocks(statement, "condition")[0]["variable"] == "ecs:cluster", name
        else:
            assert set(statement["actions"]) <= STAR_RESOURCE_ACTIONS, (name, statement["actions"])


def test_pass_role_only_for_the_two_task_roles_and_only_to_ecs_tasks(parsed):
    passing = [(n, s) for n, s in statements(parsed) if "iam:PassRole" in s["actions"]]
    assert {n for n, _ in passing} == {"pass_task_roles"}
    documents = data_sources(parsed, "aws_iam_policy_document")
    for role in ("pipeline", "build"):
        assert documents[role]["source_policy_documents"] == ["${data.aws_iam_policy_document.pass_task_roles.json}"]
    for name, statement in passing:
        assert statement["actions"] == ["iam:PassRole"], name
        assert set(statement["resources"]) == PASSED_ROLES, name
        assert blocks(statement, "condition") == [
            {"test": "StringEquals", "variable": "iam:PassedToService", "values": ["ecs-tasks.amazonaws.com"]}
        ], name


def test_roles_trust_their_service_in_this_account_only(parsed):
    res = resources(parsed)
    expected = {"pipeline": "codepipeline.amazonaws.com", "build": "codebuild.amazonaws.com"}
    trust = data_sources(parsed, "aws_iam_policy_document")["assume"]
    assert trust["for_each"] == expected
    (statement,) = blocks(trust, "statement")
    assert statement["actions"] == ["sts:AssumeRole"]
    assert blocks(statement, "principals") == [{"type": "Service", "identifiers": ["${each.value}"]}]
    assert blocks(statement, "condition") == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["${local.account_id}"]}
    ]
    for role in expected:
        assert res[f"aws_iam_role.{role}"]["assume_role_policy"] == (
            f'${{data.aws_iam_policy_document.assume["{role}"].json}}'
        )


def test_build_may_run_only_the_migration_in_the_cluster(parsed):
    build = dict((s.get("sid"), s) for n, s in statements(parsed) if n == "build")
    run = [s for s in build.values() if "ecs:RunTask" in s["actions"]]
    assert len(run) == 1
    assert run[0]["resources"] == ["${local.migrate_task_definition_arn}"]
    assert blocks(run[0], "condition") == [
        {"test": "ArnEquals", "variable": "ecs:cluster", "values": ["${var.cluster_arn}"]}
    ]
    ecr = [s for s in build.values() if "ecr:PutImage" in s["actions"]]
    assert len(ecr) == 1
    assert set(ecr[0]["resources"]) == {"${var.app_repository_arn}", "${var.proxy_repository_arn}"}
    for statement in build.values():
        assert not any(a.startswith(("codeconnections:", "codestar-connections:")) for a in statement["actions"])


def test_pipeline_deploys_only_its_service(parsed):
    pipeline_statements = [s for n, s in statements(parsed) if n == "pipeline"]
    update = [s for s in pipeline_statements if "ecs:UpdateService" in s["actions"]]
    assert len(update) == 1 and update[0]["resources"] == ["${local.service_arn}"]
    connection = [s for s in pipeline_statements if "codestar-connections:UseConnection" in s["actions"]]
    assert connection[0]["resources"] == ["${aws_codestarconnections_connection.this.arn}"]


# ---- Buildspec ----


@pytest.fixture(scope="module")
def buildspec() -> dict[str, Any]:
    return yaml.safe_load(BUILDSPEC.read_text())


def phase_commands(buildspec, phase: str) -> list[str]:
    return buildspec["phases"][phase]["commands"]


def test_buildspec_shape(buildspec):
    assert str(buildspec["version"]) == "0.2"
    assert buildspec["env"]["shell"] == "bash"
    assert buildspec["artifacts"]["files"] == ["imagedefinitions.json"]
    assert list(buildspec["phases"]) == ["pre_build", "build", "post_build"]


def test_every_command_runs_in_strict_mode(buildspec):
    for phase in buildspec["phases"]:
        for command in phase_commands(buildspec, phase):
            assert command.lstrip().startswith("set -euo pipefail"), (phase, command[:60])


def test_migration_runs_before_the_image_definitions_are_written(buildspec):
    build = "\n".join(phase_commands(buildspec, "build"))
    post = "\n".join(phase_commands(buildspec, "post_build"))
    assert "aws ecs run-task" in build and "aws ecs wait tasks-stopped" in build
    assert "imagedefinitions.json" not in build + "\n".join(phase_commands(buildspec, "pre_build"))
    assert "imagedefinitions.json" in post
    assert post.index("CODEBUILD_BUILD_SUCCEEDING") < post.index("imagedefinitions.json")
    assert build.count("register_task_revision() {") == 1


def test_buildspec_names_no_host(buildspec):
    assert "amazonaws.com" not in BUILDSPEC.read_text()


# ---- Buildspec, run against stub aws and docker ----

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REGISTRY = "123456789012.dkr.ecr.ap-northeast-1.example"

FAKE_AWS = r'''#!/usr/bin/env python3
"""Stub aws CLI: records each call, answers from canned data."""
import json, os, sys
log = os.environ["STUB_LOG"]
args = sys.argv[1:]
record = {"tool": "aws", "args": args}
def arg(name):
    return args[args.index(name) + 1]
service, op = args[0], args[1]
if (service, op) == ("ecs", "register-task-definition"):
    with open(arg("--cli-input-json")[len("file://"):]) as handle:
        record["definition"] = json.load(handle)
with open(log, "a") as handle:
    handle.write(json.dumps(record) + "\n")
if (service, op) == ("ecr", "get-login-password"):
    print("token")
elif (service, op) == ("ecr", "describe-images"):
    sys.exit(254)  # ImageNotFoundException
elif (service, op) == ("ecs", "describe-task-definition"):
    family = arg("--task-definition")
    print(json.dumps({
        "taskDefinition": {
            "taskDefinitionArn": f"arn:aws:ecs:ap-northeast-1:123456789012:task-definition/{family}:1",
            "family": family, "revision": 1, "status": "ACTIVE",
            "requiresAttributes": [], "compatibilities": ["FARGATE"],
            "registeredAt": "2025-01-01T00:00:00Z", "registeredBy": "someone",
            "executionRoleArn": "arn:aws:iam::123456789012:role/exec",
            "networkMode": "awsvpc", "cpu": "256", "memory": "512",
            "containerDefinitions": [
                {"name": "app", "image": "old:app", "command": ["python", "manage.py", "migrate"]},
                {"name": "sidecar", "image": "old:sidecar"},
            ],
        },
        "tags": [{"key": "Env", "value": "dev"}],
    }))
elif (service, op) == ("ecs", "register-task-definition"):
    family = record["definition"]["family"]
    print(f"arn:aws:ecs:ap-northeast-1:123456789012:task-definition/{family}:2")
elif (service, op) == ("ecs", "run-task"):
    print(json.dumps({"tasks": [{"taskArn": "arn:aws:ecs:ap-northeast-1:123456789012:task/c/1"}], "failures": []}))
elif (service, op) == ("ecs", "wait"):
    pass
elif (service, op) == ("ecs", "describe-tasks"):
    exit_code = int(os.environ["STUB_EXIT_CODE"])
    print(json.dumps({"tasks": [{"stoppedReason": "Essential container in task exited",
                                 "containers": [{"name": "app", "exitCode": exit_code}]}]}))
else:
    sys.exit(f"unexpected aws call: {args}")
'''

FAKE_DOCKER = r"""#!/usr/bin/env python3
import json, os, sys
with open(os.environ["STUB_LOG"], "a") as handle:
    handle.write(json.dumps({"tool": "docker", "args": sys.argv[1:]}) + "\n")
if sys.argv[1] == "login":
    sys.stdin.read()
"""


def run_buildspec(buildspec, workdir: Path, *, migrate_exit_code: int = 0, commit: str = COMMIT):
    """Run the phases like CodeBuild: each command in its own bash, exported
    variables carried over, post_build run even when build failed. Returns
    the failed (phase, index) pairs and the recorded calls."""
    bin_dir = workdir / "bin"
    bin_dir.mkdir()
    for name, text in {"aws": FAKE_AWS, "docker": FAKE_DOCKER}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = workdir / "calls.jsonl"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(workdir),
        "STUB_LOG": str(log),
        "STUB_EXIT_CODE": str(migrate_exit_code),
        "AWS_REGION": "ap-northeast-1",
        "AWS_ACCOUNT_ID": "123456789012",
        "COMMIT_ID": commit,
        "APP_REPOSITORY_URL": f"{REGISTRY}/todo-dev-app",
        "PROXY_REPOSITORY_URL": f"{REGISTRY}/todo-dev-proxy",
        "CLUSTER_NAME": "todo-dev-cluster",
        "MIGRATE_TASK_FAMILY": "todo-dev-migrate",
        "BATCH_TASK_FAMILIES": "todo-dev-purge todo-dev-report",
        "SUBNET_IDS": "subnet-a,subnet-b",
        "SECURITY_GROUP_ID": "sg-1",
        "APP_CONTAINER_NAME": "app",
        "PROXY_CONTAINER_NAME": "proxy",
        "CODEBUILD_BUILD_SUCCEEDING": "1",
    }
    env.update({k: str(v) for k, v in buildspec.get("env", {}).get("variables", {}).items()})
    failed = []
    for phase in ("pre_build", "build", "post_build"):
        if phase != "post_build" and failed:
            continue  # on-failure: ABORT skips the remaining phases but post_build
        for index, command in enumerate(phase_commands(buildspec, phase)):
            script = workdir / f"{phase}_{index}.sh"
            script.write_text(command)
            env_dump = workdir / "env.dump"
            driver = f'trap \'env -0 >"{env_dump}"\' EXIT\nsource "{script}"\n'
            result = subprocess.run(["bash", "-c", driver], cwd=workdir, env=env, capture_output=True, text=True)
            if result.returncode != 0:
                failed.append((phase, index))
                env["CODEBUILD_BUILD_SUCCEEDING"] = "0"
                break
            env = dict(item.split("=", 1) for item in env_dump.read_text().split("\0") if "=" in item)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return failed, calls


needs_tools = pytest.mark.skipif(
    not (shutil.which("bash") and shutil.which("jq") and shutil.which("python3")),
    reason="needs bash, jq and python3",
)


@needs_tools
def test_successful_build_tags_with_the_commit_and_migrates_before_deploying(buildspec, tmp_path):
    failed, calls = run_buildspec(buildspec, tmp_path)
    assert failed == []

    app_image = f"{REGISTRY}/todo-dev-app:{COMMIT}"
    proxy_image = f"{REGISTRY}/todo-dev-proxy:{COMMIT}"
    docker = [c["args"] for c in calls if c["tool"] == "docker"]
    assert docker[0][:4] == ["login", "--username", "AWS", "--password-stdin"]
    assert docker[0][4] == REGISTRY
    assert ["build", "--target", "app", "--tag", app_image, "app"] in docker
    assert ["build", "--target", "proxy", "--tag", proxy_image, "app"] in docker
    assert ["push", app_image] in docker and ["push", proxy_image] in docker

    ecs = [c for c in calls if c["tool"] == "aws" and c["args"][0] == "ecs"]
    order = [(c["args"][1], c.get("definition", {}).get("family")) for c in ecs]
    registered = [family for op, family in order if op == "register-task-definition"]
    assert registered == ["todo-dev-migrate", "todo-dev-purge", "todo-dev-report"]
    run_at = [op for op, _ in order].index("run-task")
    assert order.index(("register-task-definition", "todo-dev-migrate")) < run_at
    assert run_at < order.index(("register-task-definition", "todo-dev-purge"))

    run_task = next(c["args"] for c in ecs if c["args"][1] == "run-task")
    assert run_task[run_task.index("--launch-type") + 1] == "FARGATE"
    assert run_task[run_task.index("--task-definition") + 1].endswith("task-definition/todo-dev-migrate:2")
    assert run_task[run_task.index("--network-configuration") + 1] == (
        "awsvpcConfiguration={subnets=[subnet-a,subnet-b],securityGroups=[sg-1],assignPublicIp=DISABLED}"
    )

    definition = next(c["definition"] for c in ecs if c["args"][1] == "register-task-definition")
    for read_only in (
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
    ):
        assert read_only not in definition
    images = {c["name"]: c["image"] for c in definition["containerDefinitions"]}
    assert images == {"app": app_image, "sidecar": "old:sidecar"}
    assert definition["tags"] == [{"key": "Env", "value": "dev"}]

    written = json.loads((tmp_path / "imagedefinitions.json").read_text())
    assert written == [{"name": "app", "imageUri": app_image}, {"name": "proxy", "imageUri": proxy_image}]


@needs_tools
@pytest.mark.parametrize("exit_code", [1, 137])
def test_failed_migration_fails_the_build_and_deploys_nothing(buildspec, tmp_path, exit_code):
    failed, calls = run_buildspec(buildspec, tmp_path, migrate_exit_code=exit_code)
    assert ("build", 1) in failed
    assert ("post_build", 0) in failed
    families = [c["definition"]["family"] for c in calls if "definition" in c]
    assert families == ["todo-dev-migrate"]  # no batch revision with the unmigrated image
    assert not (tmp_path / "imagedefinitions.json").exists()


@needs_tools
@pytest.mark.parametrize("commit", ["", "latest", "0123456789ab", COMMIT.upper()])
def test_build_refuses_anything_but_a_full_commit_sha(buildspec, tmp_path, commit):
    failed, calls = run_buildspec(buildspec, tmp_path, commit=commit)
    assert failed[0] == ("pre_build", 0)
    assert not any(c["tool"] == "docker" and c["args"][0] in {"build", "push"} for c in calls)
    assert not (tmp_path / "imagedefinitions.json").exists()
