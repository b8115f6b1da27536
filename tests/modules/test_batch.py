"""Security and behaviour of modules/batch, read from its HCL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tfhelpers import (
    as_list,
    blocks,
    data_sources,
    literal,
    locals_of,
    module_fixture,
    moves_of,
    resources,
    scheduler_role_call,
    statements_of,
    variables_of,
)

MODULE = "batch"

NAMES_KEYS = {
    "schedule_group",
    "schedules",
    "task_families",
    "migrate_task_family",
    "scheduler_role",
    "scheduler_policy",
    "dead_letter_queue",
    "log_group",
}


parsed = module_fixture(MODULE)


@pytest.fixture(scope="module")
def local_values(parsed) -> dict[str, Any]:
    return locals_of(parsed)


@pytest.fixture(scope="module")
def variables(parsed) -> dict[str, dict[str, Any]]:
    return variables_of(parsed)


def scheduler_statements(parsed) -> dict[str, dict[str, Any]]:
    return {s["sid"]: s for s in statements_of(data_sources(parsed, "aws_iam_policy_document")["scheduler"])}


# ---- Logs ----


def test_log_group_is_kms_encrypted_with_retention(parsed):
    group = resources(parsed, "aws_cloudwatch_log_group")["this"]
    assert group["kms_key_id"] == "${var.kms_key_arn}"
    assert group["retention_in_days"] == "${var.log_retention_days}"


# ---- Task definitions ----


def task_definitions(parsed) -> dict[str, dict[str, Any]]:
    return resources(parsed, "aws_ecs_task_definition")


def test_task_definitions_reuse_the_app_container_without_weakening_it(parsed):
    for name, task in task_definitions(parsed).items():
        assert task["requires_compatibilities"] == ["FARGATE"], name
        assert task["network_mode"] == "awsvpc", name
        assert task["execution_role_arn"] == "${var.execution_role_arn}", name
        containers = task["container_definitions"]
        assert containers.startswith("${jsonencode([merge(var.app_container, {"), name
        # Only the migration replaces the environment (see the test below); nothing else changes.
        overridable = ("environment",) if name == "migrate" else ()
        for weakened in ("readonlyRootFilesystem", "user", "image", "secrets", "environment", "healthCheck"):
            if weakened not in overridable:
                assert weakened not in containers, f"{name} overrides {weakened}"
        volume = blocks(task, "dynamic")[0]["volume"]
        assert volume["for_each"] == "${local.scratch_volumes}", name


def test_app_container_input_must_be_read_only_and_non_root(variables):
    conditions = " ".join(v["condition"] for v in blocks(variables["app_container"], "validation"))
    assert "var.app_container.readonlyRootFilesystem" in conditions
    assert '"0"' in conditions and '"root"' in conditions
    assert 'contains(var.app_container.linuxParameters.capabilities.drop, "ALL")' in conditions


def test_scratch_volumes_follow_the_app_container_mounts(local_values):
    assert local_values["scratch_volumes"] == (
        "${distinct([for m in var.app_container.mountPoints : m.sourceVolume])}"
    )


def test_jobs_log_to_the_batch_group_with_a_prefix_per_job(parsed, local_values):
    assert local_values["log_options"]["awslogs-group"] == "${aws_cloudwatch_log_group.this.name}"
    job = task_definitions(parsed)["job"]
    assert job["for_each"] == "${local.jobs}"
    assert job["family"] == "${var.names.task_families[each.key]}"
    assert "command = each.value.command" in job["container_definitions"]
    assert "awslogs-stream-prefix = each.key" in job["container_definitions"]


@pytest.mark.parametrize("name", ["job", "migrate"])
def test_task_definitions_track_the_latest_revision_and_keep_old_ones(parsed, name):
    """The pipeline registers revisions with the new image; Terraform compares against the
    family's latest ACTIVE one (no diff after a deploy) and never deregisters on replacement."""
    task = resources(parsed, "aws_ecs_task_definition")[name]
    assert task["track_latest"] is True
    assert task["skip_destroy"] is True


@pytest.mark.parametrize("name", ["job", "migrate"])
def test_task_definitions_run_on_the_services_architecture(parsed, variables, name):
    """The jobs and the migration run the service's image: their architecture is the one the
    root passes from the ecs module's output, with no default of its own to drift from it."""
    (platform,) = blocks(resources(parsed, "aws_ecs_task_definition")[name], "runtime_platform")
    assert platform == {"operating_system_family": "LINUX", "cpu_architecture": "${var.cpu_architecture}"}
    assert "default" not in variables["cpu_architecture"]
    assert variables["cpu_architecture"]["nullable"] is False


def test_only_the_migration_reads_the_master_credentials(parsed, local_values):
    """The service and the jobs use IAM database authentication with the shared task role; the
    migration alone runs with its own role and the master credentials' secret."""
    migrate = resources(parsed, "aws_ecs_task_definition")["migrate"]
    job = resources(parsed, "aws_ecs_task_definition")["job"]
    assert migrate["task_role_arn"] == "${var.migrate_task_role_arn}"
    assert job["task_role_arn"] == "${var.task_role_arn}"
    assert "local.migrate_environment" in migrate["container_definitions"]
    assert "migrate_environment" not in job["container_definitions"]
    environment = local_values["migrate_environment"]
    assert 'e.name != "DATABASE_IAM_AUTH"' in environment
    assert "DATABASE_CREDENTIALS_ARN = var.migration_secret_arn" in environment


def test_migrate_task_runs_migrations(parsed, local_values):
    assert local_values["migrate_command"] == ["python", "manage.py", "migrate", "--noinput"]
    migrate = task_definitions(parsed)["migrate"]
    assert migrate["family"] == "${var.names.migrate_task_family}"
    assert "command = local.migrate_command" in migrate["container_definitions"]
    assert 'awslogs-stream-prefix = "migrate"' in migrate["container_definitions"]


# ---- Schedules ----


def schedule(parsed) -> dict[str, Any]:
    return resources(parsed, "aws_scheduler_schedule")["job"]


def test_schedules_have_flexible_window_timezone_and_state(parsed):
    sched = schedule(parsed)
    assert sched["for_each"] == "${local.jobs}"
    assert sched["group_name"] == "${aws_scheduler_schedule_group.this.name}"
    window = blocks(sched, "flexible_time_window")[0]
    assert window == {"mode": "FLEXIBLE", "maximum_window_in_minutes": "${var.flexible_window_minutes}"}
    assert sched["schedule_expression_timezone"] == "${each.value.timezone}"
    assert sched["state"] == '${each.value.enabled ? "ENABLED" : "DISABLED"}'
    assert sched["kms_key_arn"] == "${var.kms_key_arn}"


def test_schedules_retry_and_dead_letter(parsed):
    target = blocks(schedule(parsed), "target")[0]
    retry = blocks(target, "retry_policy")[0]
    assert retry == {
        "maximum_retry_attempts": "${var.maximum_retry_attempts}",
        "maximum_event_age_in_seconds": "${var.maximum_event_age_seconds}",
    }
    assert blocks(target, "dead_letter_config")[0]["arn"] == "${aws_sqs_queue.dead_letter.arn}"


def test_schedules_run_the_latest_revision_privately_without_exec(parsed):
    target = blocks(schedule(parsed), "target")[0]
    assert target["arn"] == "${var.cluster_arn}"
    assert target["role_arn"] == "${module.scheduler_role.arn}"
    ecs = blocks(target, "ecs_parameters")[0]
    assert ecs["task_definition_arn"] == "${aws_ecs_task_definition.job[each.key].arn_without_revision}"
    assert ecs["launch_type"] == "FARGATE"
    assert ecs["enable_execute_command"] is False
    network = blocks(ecs, "network_configuration")[0]
    assert network["assign_public_ip"] is False
    assert network["security_groups"] == ["${var.security_group_id}"]
    assert network["subnets"] == "${var.private_subnet_ids}"


def test_job_schedule_validation_accepts_cron_rate_at_only(variables):
    regexes = []
    for validation in blocks(variables["jobs"], "validation"):
        if "j.schedule" in str(validation["condition"]):
            regexes += re.findall(r'regex\("((?:[^"\\]|\\.)*)"', validation["condition"])
    assert regexes
    pattern = re.compile(regexes[0].replace("\\\\", "\\"))
    for good in ("cron(0 3 * * ? *)", "rate(1 day)", "at(2030-01-01T00:00:00)"):
        assert pattern.search(good), good
    for bad in ("0 3 * * *", "daily", "cron 0 3 * * ? *"):
        assert not pattern.search(bad), bad


def test_jobs_validated_for_unique_names_and_names_entries(variables):
    conditions = [str(v["condition"]) for v in blocks(variables["jobs"], "validation")]
    assert any("distinct([for j in var.jobs : j.name])" in c for c in conditions)
    assert any("var.names.schedules" in c and "var.names.task_families" in c for c in conditions)


# ---- Dead-letter queue ----


def test_dead_letter_queue_is_encrypted_and_keeps_fourteen_days(parsed):
    queue = resources(parsed, "aws_sqs_queue")["dead_letter"]
    assert queue["kms_master_key_id"] == "${var.kms_key_arn}"
    assert queue["message_retention_seconds"] == 1209600
    assert "sqs_managed_sse_enabled" not in queue


def test_dead_letter_queue_refuses_plain_http(parsed):
    policy = resources(parsed, "aws_sqs_queue_policy")["dead_letter"]
    assert policy["policy"] == "${data.aws_iam_policy_document.dead_letter.json}"
    (deny,) = statements_of(data_sources(parsed, "aws_iam_policy_document")["dead_letter"])
    assert deny["effect"] == "Deny"
    assert "sqs:SendMessage" in deny["actions"] and "sqs:ReceiveMessage" in deny["actions"]
    condition = blocks(deny, "condition")[0]
    assert condition["variable"] == "aws:SecureTransport" and condition["values"] == ["false"]


# ---- IAM ----


def test_no_wildcard_actions_or_resources(parsed):
    for name, doc in data_sources(parsed, "aws_iam_policy_document").items():
        for stmt in statements_of(doc):
            for action in as_list(stmt["actions"]):
                assert "*" not in action, f"{name}: {action}"
            assert "*" not in as_list(stmt.get("resources", [])), name


def test_scheduler_passes_exactly_the_two_task_roles_to_ecs(parsed):
    passrole = scheduler_statements(parsed)["PassTaskRoles"]
    assert passrole["actions"] == ["iam:PassRole"]
    assert passrole["resources"] == ["${var.execution_role_arn}", "${var.task_role_arn}"]
    condition = blocks(passrole, "condition")[0]
    assert condition == {
        "test": "StringEquals",
        "variable": "iam:PassedToService",
        "values": ["ecs-tasks.amazonaws.com"],
    }


def test_scheduler_runs_only_job_families_in_the_cluster(parsed):
    run = scheduler_statements(parsed)["RunJobTasks"]
    assert run["actions"] == ["ecs:RunTask"]
    assert "aws_ecs_task_definition.job" in run["resources"]
    assert "td.arn_without_revision" in run["resources"] and ':*"' in run["resources"]
    assert "migrate" not in run["resources"]
    condition = blocks(run, "condition")[0]
    assert condition["variable"] == "ecs:cluster"
    assert condition["values"] == ["${var.cluster_arn}"]


def test_scheduler_other_permissions_are_scoped(parsed):
    stmts = scheduler_statements(parsed)
    assert set(stmts) == {
        "RunJobTasks",
        "TagJobTasks",
        "PassTaskRoles",
        "DeadLetter",
        "EncryptedQueueAndInput",
    }
    assert stmts["DeadLetter"]["actions"] == ["sqs:SendMessage"]
    assert stmts["DeadLetter"]["resources"] == ["${aws_sqs_queue.dead_letter.arn}"]
    assert set(stmts["EncryptedQueueAndInput"]["actions"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert stmts["EncryptedQueueAndInput"]["resources"] == ["${var.kms_key_arn}"]
    tag = stmts["TagJobTasks"]
    assert tag["actions"] == ["ecs:TagResource"]
    assert blocks(tag, "condition")[0]["variable"] == "ecs:CreateAction"


def test_scheduler_role_is_the_shared_one_for_this_group_with_this_policy(parsed):
    scheduler_role_call(parsed)
    # The role applied before the move keeps its state (no replacement, no gap in the schedules).
    assert moves_of(parsed) == {
        "${aws_iam_role.scheduler}": "${module.scheduler_role.aws_iam_role.this}",
        "${aws_iam_role_policy.scheduler}": "${module.scheduler_role.aws_iam_role_policy.this}"}


def test_no_managed_policies(parsed):
    assert not resources(parsed, "aws_iam_role_policy_attachment")
    for role in resources(parsed, "aws_iam_role").values():
        assert "managed_policy_arns" not in role


# ---- Interface ----


def test_names_variable_has_exactly_the_expected_keys(variables):
    keys = set(re.findall(r"(\w+)\s*=\s*(?:string|map\(string\))", variables["names"]["type"]))
    assert keys == NAMES_KEYS


def test_every_variable_and_output_is_described(parsed, variables):
    for name, body in variables.items():
        assert body.get("description"), name
        assert body.get("type"), name
        if str(body["type"]).startswith(("${list(", "${map(")):
            assert body.get("nullable") is False, name
    for block in parsed["output"]:
        for name, body in block.items():
            assert literal(body).get("description"), name
