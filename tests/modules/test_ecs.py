"""Security and behaviour of modules/ecs, read from its HCL."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from tfhelpers import (
    ROOT,
    as_list,
    blocks,
    data_sources,
    literal,
    locals_of,
    module_fixture,
    outputs_of,
    resources,
    statements_of,
    variables_of,
)

MODULE = "ecs"

NAMES_KEYS = {
    "cluster",
    "service",
    "task_family",
    "app_repository",
    "proxy_repository",
    "app_log_group",
    "proxy_log_group",
    "exec_log_group",
    "execution_role",
    "task_role",
    "execution_policy",
    "task_policy",
    "migrate_task_role",
    "migrate_task_policy",
    "security_group",
    "cpu_scaling_policy",
    "requests_scaling_policy",
    "image_tag_parameter",
    "infrastructure_role",
    "smoke_hook_function",
    "smoke_hook_log_group",
    "smoke_hook_role",
    "smoke_hook_policy",
    "smoke_hook_security_group",
    "hook_invoke_role",
    "hook_invoke_policy",
}

# Actions for which AWS supports no resource-level permission: the only ones allowed on "*".
STAR_RESOURCE_ACTIONS = {
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ecr:GetAuthorizationToken",
    "logs:DescribeLogGroups",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "xray:PutTelemetryRecords",
    "xray:PutTraceSegments",
}


parsed = module_fixture(MODULE)


@pytest.fixture(scope="module")
def local_values(parsed) -> dict[str, Any]:
    return locals_of(parsed)


@pytest.fixture(scope="module")
def variables(parsed) -> dict[str, dict[str, Any]]:
    return variables_of(parsed)


def validation_regexes(variable: dict[str, Any]) -> list[str]:
    """The regex literals inside a variable's validation conditions."""
    found = []
    for validation in blocks(variable, "validation"):
        found += re.findall(r'regex\("((?:[^"\\]|\\.)*)"', validation["condition"])
    return found


# ---- Container registry ----


def test_repositories_are_immutable_scanned_and_kms_encrypted(parsed):
    repo = resources(parsed, "aws_ecr_repository")["this"]
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert blocks(repo, "image_scanning_configuration")[0]["scan_on_push"] is True
    encryption = blocks(repo, "encryption_configuration")[0]
    assert encryption["encryption_type"] == "KMS"
    assert encryption["kms_key"] == "${var.kms_key_arn}"
    assert repo["force_delete"] == "${var.ecr_force_delete}"


def test_one_repository_each_for_app_and_proxy(local_values):
    assert local_values["repositories"] == {
        "app": "${var.names.app_repository}",
        "proxy": "${var.names.proxy_repository}",
    }


def test_force_delete_is_off_and_keep_images_twenty_by_default(variables):
    assert variables["ecr_force_delete"]["default"] is False
    assert variables["ecr_keep_images"]["default"] == 20


def test_lifecycle_policy_expires_untagged_and_keeps_last_n_tagged(parsed, local_values):
    policy = resources(parsed, "aws_ecr_lifecycle_policy")["this"]
    assert policy["for_each"] == "${aws_ecr_repository.this}"
    assert policy["policy"] == "${jsonencode(local.ecr_lifecycle_policy)}"

    rules = local_values["ecr_lifecycle_policy"]["rules"]
    assert all(rule["action"] == {"type": "expire"} for rule in rules)
    priorities = [rule["rulePriority"] for rule in rules]
    assert len(set(priorities)) == len(priorities), "rulePriority must be unique"

    untagged = [r for r in rules if r["selection"]["tagStatus"] == "untagged"]
    assert len(untagged) == 1
    sel = untagged[0]["selection"]
    assert "tagPatternList" not in sel and "tagPrefixList" not in sel
    assert (
        sel["countType"] == "sinceImagePushed" and sel["countUnit"] == "days" and sel["countNumber"] <= 1
    ) or (sel["countType"] == "imageCountMoreThan" and sel["countNumber"] <= 1)

    keep = [r for r in rules if r["selection"]["countNumber"] == "${var.ecr_keep_images}"]
    assert len(keep) == 1
    sel = keep[0]["selection"]
    assert sel["countType"] == "imageCountMoreThan"
    assert sel["tagStatus"] == "any" or (sel["tagStatus"] == "tagged" and sel["tagPatternList"] == ["*"])

    # AWS: a rule with tagStatus "any" must carry the highest rulePriority.
    for rule in rules:
        if rule["selection"]["tagStatus"] == "any":
            assert rule["rulePriority"] == max(priorities)


def test_released_images_are_kept_by_the_first_rule_with_the_deploy_programs_mark(local_values):
    """The release tags its images (and the previous release's) with deploy.images.MARK_PREFIX;
    the rule that selects them comes first, so the count of the later rules never expires them
    (tests/deploy/test_image_marks.py evaluates the whole policy)."""
    from deploy.images import MARK_PREFIX

    rules = sorted(local_values["ecr_lifecycle_policy"]["rules"], key=lambda r: r["rulePriority"])
    first = rules[0]["selection"]
    assert first["tagStatus"] == "tagged"
    assert first["tagPrefixList"] == ["${local.deployed_tag_prefix}"]
    assert local_values["deployed_tag_prefix"] == MARK_PREFIX
    # The program leaves two marks (running, previous); room for those a killed release left.
    assert first["countType"] == "imageCountMoreThan" and local_values["deployed_images_kept"] >= 3


# ---- Logs ----


def test_log_groups_are_kms_encrypted_with_retention_and_class(parsed, local_values, variables):
    group = resources(parsed, "aws_cloudwatch_log_group")["this"]
    assert group["kms_key_id"] == "${var.kms_key_arn}"
    # ECS Exec's session log is an audit trail with a retention of its own (a year in prod).
    assert group["retention_in_days"] == '${each.key == "exec" ? var.exec_log_retention_days : var.log_retention_days}'
    assert group["log_group_class"] == "${var.log_group_class}"
    # The service's three, and the smoke-test hook's with blue/green only (test_ecs_smoke_hook.py).
    assert local_values["log_groups"] == (
        "${merge({app = var.names.app_log_group, proxy = var.names.proxy_log_group, exec = var.names.exec_log_group}, "
        "local.blue_green ? {smoke_hook = var.names.smoke_hook_log_group} : {})}")
    assert "default" not in variables["log_retention_days"], "each environment chooses its retention"
    assert blocks(variables["log_retention_days"], "validation")


# ---- Cluster ----


def test_cluster_has_container_insights_and_logged_encrypted_exec(parsed):
    cluster = resources(parsed, "aws_ecs_cluster")["this"]
    setting = blocks(cluster, "setting")[0]
    assert setting["name"] == "containerInsights"
    assert setting["value"] in ("enabled", "enhanced")
    exec_config = blocks(blocks(cluster, "configuration")[0], "execute_command_configuration")[0]
    assert exec_config["kms_key_id"] == "${var.kms_key_arn}"
    assert exec_config["logging"] == "OVERRIDE"
    log_config = blocks(exec_config, "log_configuration")[0]
    assert log_config["cloud_watch_encryption_enabled"] is True
    assert log_config["cloud_watch_log_group_name"] == '${aws_cloudwatch_log_group.this["exec"].name}'
    providers = resources(parsed, "aws_ecs_cluster_capacity_providers")["this"]
    assert set(providers["capacity_providers"]) == {"FARGATE", "FARGATE_SPOT"}


# ---- Task definition ----


def resolve(local_values: dict[str, Any], value: Any) -> Any:
    match = re.fullmatch(r"\$\{local\.(\w+)\}", value) if isinstance(value, str) else None
    return local_values[match.group(1)] if match else value


def test_task_definition_is_fargate_awsvpc_with_both_containers(parsed):
    task = resources(parsed, "aws_ecs_task_definition")["this"]
    assert task["requires_compatibilities"] == ["FARGATE"]
    assert task["network_mode"] == "awsvpc"
    assert task["container_definitions"] == (
        "${jsonencode([local.proxy_container, merge(local.app_container_base, local.app_service_settings)])}"
    )
    platform = blocks(task, "runtime_platform")[0]
    assert platform["operating_system_family"] == "LINUX"
    assert platform["cpu_architecture"] == "${var.cpu_architecture}"


def test_architecture_is_required_and_handed_on(parsed, variables):
    """The environment's YAML is the one source of the architecture (no module default to differ
    from it); the output gives it to the batch tasks and the pipeline's image build."""
    assert "default" not in variables["cpu_architecture"]
    assert variables["cpu_architecture"]["nullable"] is False
    assert outputs_of(parsed)["cpu_architecture"]["value"] == "${var.cpu_architecture}"


@pytest.mark.parametrize(("container", "uid"), [("app_container_base", "10001"), ("proxy_container", "101")])
def test_containers_read_only_non_root_with_init(local_values, container, uid):
    definition = local_values[container]
    assert definition["readonlyRootFilesystem"] is True
    assert resolve(local_values, definition["user"]) == uid
    assert definition["essential"] is True
    assert definition["linuxParameters"] == "${local.linux_parameters}"
    assert definition["stopTimeout"]


def test_containers_run_with_an_init_process_and_no_linux_capabilities(local_values):
    assert local_values["linux_parameters"] == {"initProcessEnabled": True, "capabilities": {"drop": ["ALL"]}}


def test_service_settings_cannot_weaken_the_app_container(local_values):
    extra = set(local_values["app_service_settings"])
    assert extra == {"healthCheck", "logConfiguration", "mountPoints"}
    # The service's mounts are the shared ones plus the ECS Exec agent's, never fewer.
    assert local_values["app_service_settings"]["mountPoints"].startswith(
        "${concat(local.app_container_base.mountPoints, ["
    )


def test_ecs_exec_agent_paths_are_writable_in_the_service_app_container(parsed, local_values):
    """AWS: ECS Exec does not support a read-only root file system, because the SSM agent writes
    under these paths; the exec checker's documented workaround mounts writable volumes there."""
    assert set(local_values["exec_agent_volumes"].values()) == {
        "/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm"}
    task = resources(parsed, "aws_ecs_task_definition")["this"]
    (dynamic,) = [d["volume"] for d in blocks(task, "dynamic") if "volume" in d]
    assert dynamic["for_each"] == "${local.exec_agent_volumes}"


def test_each_container_has_its_own_scratch_tmp_volume(parsed, local_values):
    task = resources(parsed, "aws_ecs_task_definition")["this"]
    volumes = [v for v in blocks(task, "volume")]
    assert all(set(v) == {"name"} for v in volumes), "scratch volumes take no host path"
    declared = {resolve(local_values, v["name"]) for v in volumes}
    mounted = []
    for container in ("app_container_base", "proxy_container"):
        mounts = local_values[container]["mountPoints"]
        assert [m["containerPath"] for m in mounts] == ["/tmp"]
        assert mounts[0]["readOnly"] is False
        mounted.append(resolve(local_values, mounts[0]["sourceVolume"]))
    assert len(set(mounted)) == 2
    assert set(mounted) == declared


def test_only_the_proxy_publishes_a_port(local_values):
    assert "portMappings" not in local_values["app_container_base"]
    assert "portMappings" not in local_values["app_service_settings"]
    ports = local_values["proxy_container"]["portMappings"]
    assert [p["containerPort"] for p in ports] == ["${var.proxy_port}"]


def test_proxy_waits_for_a_healthy_app(local_values):
    depends = local_values["proxy_container"]["dependsOn"]
    assert depends == [{"containerName": "${local.app_container_base.name}", "condition": "HEALTHY"}]
    command = local_values["app_service_settings"]["healthCheck"]["command"]
    assert command[:3] == ["CMD", "python", "-c"]
    # gunicorn's master answers liveness on its port + 1 (app/config/liveness.py).
    assert "http://127.0.0.1:${var.app_port + 1}/healthz" in command[3]


def test_containers_log_to_their_groups(local_values):
    app = local_values["app_service_settings"]["logConfiguration"]
    proxy = local_values["proxy_container"]["logConfiguration"]
    assert app["logDriver"] == proxy["logDriver"] == "awslogs"
    assert app["options"]["awslogs-group"] == '${aws_cloudwatch_log_group.this["app"].name}'
    assert proxy["options"]["awslogs-group"] == '${aws_cloudwatch_log_group.this["proxy"].name}'


def test_secrets_only_through_value_from(local_values):
    app = local_values["app_container_base"]
    assert app["secrets"] == "${local.app_secrets}"
    assert app["environment"] == "${local.app_environment}"
    assert "valueFrom" in local_values["app_secrets"]
    assert "value " not in local_values["app_secrets"].replace("valueFrom", "")


def test_environment_rejects_secret_looking_names(variables):
    patterns = [p for p in validation_regexes(variables["environment"]) if "SECRET" in p]
    assert patterns, "environment needs a validation against secret-looking names"
    pattern = re.compile(patterns[0].replace("\\\\", "\\"))
    for name in ("DJANGO_SECRET_KEY", "DATABASE_PASSWORD", "API_TOKEN"):
        assert pattern.search(name), name
    for name in ("DJANGO_ALLOWED_HOSTS", "DATABASE_HOST", "REDIS_URL"):
        assert not pattern.search(name), name


def test_secret_arns_must_be_ssm_or_secrets_manager(variables):
    patterns = [re.compile(p.replace("\\\\", "\\")) for p in validation_regexes(variables["secrets"])]
    arn_patterns = [p for p in patterns if "arn" in p.pattern]

    def accepted(arn: str) -> bool:
        return any(p.search(arn) for p in arn_patterns)

    assert accepted("arn:aws:ssm:ap-northeast-1:123456789012:parameter/todo/dev/secret-key")
    assert accepted("arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:rds!db-1-AbCdEf")
    assert not accepted("arn:aws:s3:::todo-secrets/key")
    assert not accepted("plain-text-secret")


# ---- Service ----


def test_service_runs_private_without_public_ip(parsed):
    service = resources(parsed, "aws_ecs_service")["this"]
    network = blocks(service, "network_configuration")[0]
    assert network["assign_public_ip"] is False
    assert network["subnets"] == "${var.private_subnet_ids}"
    assert network["security_groups"] == ["${aws_security_group.this.id}"]


def test_service_deploys_safely(parsed):
    service = resources(parsed, "aws_ecs_service")["this"]
    breaker = blocks(service, "deployment_circuit_breaker")[0]
    assert breaker == {"enable": True, "rollback": True}
    assert service["deployment_minimum_healthy_percent"] == 100
    assert service["deployment_maximum_percent"] == 200
    assert service["health_check_grace_period_seconds"] == "${var.health_check_grace_period}"
    assert service["wait_for_steady_state"] is False
    # Autoscaling owns the count; the task definition is followed, so an applied setting reaches
    # the running service (the deployed image comes from the parameter, see below).
    assert blocks(service, "lifecycle")[0]["ignore_changes"] == ["desired_count"]
    assert service["task_definition"] == "${aws_ecs_task_definition.this.arn}"


# ---- Deployed image ----


def test_image_tag_parameter_is_written_once_then_owned_by_the_pipeline(parsed, variables):
    parameter = resources(parsed, "aws_ssm_parameter")["image_tag"]
    assert parameter["type"] == "String"
    assert parameter["name"] == "${var.names.image_tag_parameter}"
    assert parameter["value"] == "${var.bootstrap_image_tag}"
    assert blocks(parameter, "lifecycle")[0]["ignore_changes"] == ["value"]
    assert variables["bootstrap_image_tag"]["default"] == "bootstrap"


def test_every_container_runs_the_deployed_image(parsed, local_values):
    reader = data_sources(parsed, "aws_ssm_parameter")["image_tag"]
    assert reader["name"] == "${aws_ssm_parameter.image_tag.name}"
    assert local_values["image_tag"] == "${data.aws_ssm_parameter.image_tag.insecure_value}"
    for container in ("app_container_base", "proxy_container"):
        assert local_values[container]["image"].endswith(":${local.image_tag}"), container
    assert "var.image_tag" not in json.dumps(parsed)


def test_task_definition_tracks_the_latest_revision_and_keeps_old_ones(parsed):
    task = resources(parsed, "aws_ecs_task_definition")["this"]
    assert task["track_latest"] is True
    assert task["skip_destroy"] is True


def test_service_strategy_and_bake_time_come_from_the_environment(parsed, variables):
    service = resources(parsed, "aws_ecs_service")["this"]
    (config,) = blocks(service, "deployment_configuration")
    assert config["strategy"] == "${var.deployment_strategy}"
    # ECS requires a bake time with BLUE_GREEN and knows none with ROLLING.
    assert config["bake_time_in_minutes"] == "${local.blue_green ? var.bake_time_minutes : null}"
    assert locals_of(parsed)["blue_green"] == '${var.deployment_strategy == "BLUE_GREEN"}'
    strategy = variables["deployment_strategy"]
    assert strategy["default"] == "ROLLING"
    conditions = [v["condition"] for v in blocks(strategy, "validation")]
    assert any('contains(["ROLLING", "BLUE_GREEN"], var.deployment_strategy)' in c for c in conditions)
    # BLUE_GREEN without the load balancer's pair (or ROLLING with it) is refused at plan time.
    assert any('(var.deployment_strategy == "BLUE_GREEN") == (var.blue_green != null)' in c for c in conditions)


def test_blue_green_wires_the_pair_and_ecs_s_own_role(parsed):
    service = resources(parsed, "aws_ecs_service")["this"]
    lb = blocks(service, "load_balancer")[0]
    (dynamic,) = [d for d in blocks(lb, "dynamic") if "advanced_configuration" in d]
    advanced = dynamic["advanced_configuration"]
    assert advanced["for_each"] == "${local.blue_green ? [var.blue_green] : []}"
    content = blocks(advanced, "content")[0]
    assert content == {
        "alternate_target_group_arn": "${advanced_configuration.value.alternate_target_group_arn}",
        "production_listener_rule": "${advanced_configuration.value.production_listener_rule_arn}",
        "test_listener_rule": "${advanced_configuration.value.test_listener_rule_arn}",
        "role_arn": "${aws_iam_role.infrastructure[0].arn}",
    }
    # Alarms and the circuit breaker roll back with either strategy.
    assert blocks(service, "deployment_circuit_breaker")[0] == {"enable": True, "rollback": True}
    alarms = blocks(service, "dynamic")[0]["alarms"]
    assert blocks(alarms, "content")[0]["rollback"] is True


def test_blue_green_services_do_not_scale_on_one_target_group_s_requests(parsed):
    """ALBRequestCountPerTarget names one target group; blue/green moves production traffic to the
    other one at every deployment, which would read as no requests and scale the service in."""
    policies = resources(parsed, "aws_appautoscaling_policy")
    assert policies["requests"]["count"] == "${local.blue_green ? 0 : 1}"
    assert "count" not in policies["cpu"]


def test_service_enables_exec_and_propagates_tags(parsed):
    service = resources(parsed, "aws_ecs_service")["this"]
    assert service["enable_execute_command"] is True
    assert service["propagate_tags"] == "SERVICE"


def test_service_sits_behind_the_target_group_on_the_proxy(parsed):
    service = resources(parsed, "aws_ecs_service")["this"]
    lb = blocks(service, "load_balancer")[0]
    assert lb["target_group_arn"] == "${var.target_group_arn}"
    assert lb["container_name"] == "${local.proxy_container.name}"
    assert lb["container_port"] == "${var.proxy_port}"


def test_service_capacity_strategy_fargate_base_and_spot_weight(parsed):
    service = resources(parsed, "aws_ecs_service")["this"]
    assert "launch_type" not in service
    strategy = {s["capacity_provider"]: s for s in blocks(service, "capacity_provider_strategy")}
    assert strategy["FARGATE"]["base"] == "${var.fargate_base}"
    assert strategy["FARGATE_SPOT"]["weight"] == "${var.fargate_spot_weight}"


# ---- Autoscaling ----


def test_target_tracking_on_cpu_and_requests(parsed):
    target = resources(parsed, "aws_appautoscaling_target")["this"]
    assert target["min_capacity"] == "${var.min_capacity}"
    assert target["max_capacity"] == "${var.max_capacity}"
    policies = resources(parsed, "aws_appautoscaling_policy")
    metrics = {}
    for policy in policies.values():
        assert policy["policy_type"] == "TargetTrackingScaling"
        config = blocks(policy, "target_tracking_scaling_policy_configuration")[0]
        assert config["scale_in_cooldown"] and config["scale_out_cooldown"]
        metric = blocks(config, "predefined_metric_specification")[0]
        metrics[metric["predefined_metric_type"]] = (config["target_value"], metric)
    assert metrics["ECSServiceAverageCPUUtilization"][0] == "${var.cpu_target}"
    value, metric = metrics["ALBRequestCountPerTarget"]
    assert value == "${var.requests_per_target}"
    assert metric["resource_label"] == "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"


# ---- IAM ----


def all_statements(parsed) -> dict[str, list[dict[str, Any]]]:
    return {name: statements_of(doc) for name, doc in data_sources(parsed, "aws_iam_policy_document").items()}


def test_no_wildcard_actions(parsed):
    for name, stmts in all_statements(parsed).items():
        for stmt in stmts:
            for action in as_list(stmt["actions"]):
                assert "*" not in action, f"{name}: {action}"


def test_star_resources_only_where_aws_requires_them(parsed):
    for name, stmts in all_statements(parsed).items():
        for stmt in stmts:
            if "*" in as_list(stmt.get("resources", [])):
                assert set(as_list(stmt["actions"])) <= STAR_RESOURCE_ACTIONS, f"{name}: {stmt['actions']}"


def test_execution_role_statements_are_scoped(parsed):
    stmts = {s["sid"]: s for s in all_statements(parsed)["execution"]}
    assert set(stmts) == {
        "PullImages",
        "EcrLogin",
        "WriteContainerLogs",
        "ReadSsmSecrets",
        "ReadSecretsManagerSecrets",
        "DecryptSecrets",
    }
    assert set(stmts["PullImages"]["actions"]) == {
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
    }
    assert stmts["PullImages"]["resources"] == "${[for r in aws_ecr_repository.this : r.arn]}"
    assert stmts["EcrLogin"]["actions"] == ["ecr:GetAuthorizationToken"]
    assert set(stmts["WriteContainerLogs"]["actions"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    logs = stmts["WriteContainerLogs"]["resources"]
    assert (
        'aws_cloudwatch_log_group.this["app"].arn' in logs
        and 'aws_cloudwatch_log_group.this["proxy"].arn' in logs
    )
    assert 'this["exec"]' not in logs
    assert logs.endswith(': "${arn}:*"]}'), "each log group ARN narrowed to its own streams"
    assert stmts["ReadSsmSecrets"] == {
        "sid": "ReadSsmSecrets",
        "actions": ["ssm:GetParameters"],
        "resources": "${local.ssm_parameter_arns}",
    }
    assert stmts["ReadSecretsManagerSecrets"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert stmts["ReadSecretsManagerSecrets"]["resources"] == "${local.secretsmanager_arns}"
    assert stmts["DecryptSecrets"]["actions"] == ["kms:Decrypt"]
    assert stmts["DecryptSecrets"]["resources"] == ["${var.kms_key_arn}"]
    # Only through the services that hold the secrets, never a direct decrypt.
    assert blocks(stmts["DecryptSecrets"], "condition") == [{
        "test": "StringEquals", "variable": "kms:ViaService",
        "values": ["ssm.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]}]


def test_secret_arns_are_partitioned_by_service(local_values):
    assert "ssm:" in local_values["ssm_parameter_arns"]
    assert "secretsmanager:" in local_values["secretsmanager_arns"]


def test_task_role_allows_exec_and_iam_auth_to_the_data_stores_only(parsed):
    stmts = {s["sid"]: s for s in all_statements(parsed)["task"]}
    actions = {a for s in stmts.values() for a in as_list(s["actions"])}
    assert actions == {
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
        "logs:DescribeLogGroups",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "rds-db:connect",
        "elasticache:Connect",
    }
    # No secret at all: the master credentials are the migration task's alone.
    assert not any(a.startswith("secretsmanager:") for a in actions)
    assert stmts["DatabaseIamAuth"]["resources"] == "${var.database_connect_arns}"
    assert stmts["CacheIamAuth"]["resources"] == "${var.cache_connect_arns}"
    assert stmts["EcsExecLogs"]["resources"] == ['${aws_cloudwatch_log_group.this["exec"].arn}:*']
    assert stmts["EcsExecEncryption"]["resources"] == ["${var.kms_key_arn}"]


def test_connect_arns_must_name_one_user_without_wildcards(variables):
    (database,) = validation_regexes(variables["database_connect_arns"])
    good = "arn:aws:rds-db:ap-northeast-1:123456789012:dbuser:db-ABCDEFGHIJKL/todo_app"
    assert re.match(database, good)
    for bad in (
        "arn:aws:rds-db:ap-northeast-1:123456789012:dbuser:*/todo_app",
        "arn:aws:rds-db:ap-northeast-1:123456789012:dbuser:db-ABCDEFGHIJKL/*",
        "arn:aws:rds:ap-northeast-1:123456789012:db:todo",
    ):
        assert not re.match(database, bad), bad
    (cache,) = validation_regexes(variables["cache_connect_arns"])
    assert re.match(cache, "arn:aws:elasticache:ap-northeast-1:123456789012:user:todo-app")
    assert re.match(cache, "arn:aws:elasticache:ap-northeast-1:123456789012:replicationgroup:x")
    assert not re.match(cache, "arn:aws:elasticache:ap-northeast-1:123456789012:user:*")


def test_only_the_migration_role_reads_the_master_credentials(parsed):
    roles = resources(parsed, "aws_iam_role")
    # "infrastructure" and "hook_invoke" are ECS's own (blue/green listener rules, the smoke-test
    # hook), "smoke_hook" the hook function's: never a task's.
    assert set(roles) == {"execution", "task", "migrate", "infrastructure", "hook_invoke", "smoke_hook"}
    policies = resources(parsed, "aws_iam_role_policy")
    assert policies["migrate"]["role"] == "${aws_iam_role.migrate.id}"
    stmts = {s["sid"]: s for s in all_statements(parsed)["migrate"]}
    assert set(stmts) == {"ReadMasterCredentials", "DecryptMasterCredentials"}
    assert stmts["ReadMasterCredentials"]["actions"] == ["secretsmanager:GetSecretValue"]
    assert stmts["ReadMasterCredentials"]["resources"] == "${var.migration_secret_arns}"
    decrypt = stmts["DecryptMasterCredentials"]
    assert (decrypt["actions"], decrypt["resources"]) == (["kms:Decrypt"], ["${var.kms_key_arn}"])
    [via] = blocks(decrypt, "condition")
    assert (via["test"], via["variable"]) == ("StringEquals", "kms:ViaService")
    assert via["values"] == ["secretsmanager.${local.region}.amazonaws.com"]
    # The execution role reads only the secrets injected at start, never the master's.
    for root in ("dev", "stg", "prod"):
        ecs = (ROOT / "envs" / root / "ecs.tf").read_text(encoding="utf-8")
        assert "DATABASE_PASSWORD" not in ecs and "DATABASE_CREDENTIALS_ARN" not in ecs
        assert "migration_secret_arns = [module.rds.master_user_secret_arn]" in ecs


def test_roles_trust_ecs_tasks_of_this_account_only(parsed):
    trust = all_statements(parsed)["ecs_tasks_assume"]
    assert len(trust) == 1
    principal = blocks(trust[0], "principals")[0]
    assert principal["identifiers"] == ["ecs-tasks.amazonaws.com"]
    conditions = {c["variable"]: c for c in blocks(trust[0], "condition")}
    assert conditions["aws:SourceAccount"]["values"] == ["${local.account_id}"]
    for name, role in resources(parsed, "aws_iam_role").items():
        if name not in {"infrastructure", "hook_invoke", "smoke_hook"}:
            assert role["assume_role_policy"] == "${data.aws_iam_policy_document.ecs_tasks_assume.json}"


def test_the_infrastructure_role_is_ecs_s_as_documented_and_blue_green_only(parsed):
    role = resources(parsed, "aws_iam_role")["infrastructure"]
    assert role["count"] == "${local.blue_green ? 1 : 0}"
    assert role["assume_role_policy"] == "${data.aws_iam_policy_document.ecs_infrastructure_assume.json}"
    assert role["permissions_boundary"] == "${var.permissions_boundary_arn}"
    (trust,) = all_statements(parsed)["ecs_infrastructure_assume"]
    assert blocks(trust, "principals")[0]["identifiers"] == ["ecs.amazonaws.com"]
    assert trust["actions"] == ["sts:AssumeRole"]
    # The trust policy of the ECS guide, with no condition: a condition on a key ECS is not
    # documented to send (aws:SourceAccount) would deny ECS the role at the first traffic shift.
    assert not blocks(trust, "condition")


def test_only_ecs_s_load_balancer_policy_is_managed(parsed):
    """Task roles carry inline least-privilege policies only; ECS's blue/green role carries the AWS
    managed policy the ECS guide names for it, which AWS keeps in step with the workflow."""
    assert not resources(parsed, "aws_iam_policy_attachment")
    attachments = resources(parsed, "aws_iam_role_policy_attachment")
    assert set(attachments) == {"infrastructure"}
    assert attachments["infrastructure"]["role"] == "${aws_iam_role.infrastructure[0].name}"
    assert attachments["infrastructure"]["policy_arn"] == (
        "arn:${local.partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers")
    for role in resources(parsed, "aws_iam_role").values():
        assert "managed_policy_arns" not in role


# ---- Security group ----


def test_security_group_ingress_only_from_the_alb(parsed):
    group = resources(parsed, "aws_security_group")["this"]
    assert "ingress" not in group and "egress" not in group, "rules are separate resources"
    assert group["description"]
    rules = resources(parsed, "aws_vpc_security_group_ingress_rule")
    assert rules
    for rule in rules.values():
        assert rule["referenced_security_group_id"] == "${var.alb_security_group_id}"
        assert rule["from_port"] == rule["to_port"] == "${var.proxy_port}"
        assert "cidr_ipv4" not in rule and "cidr_ipv6" not in rule and "prefix_list_id" not in rule
        assert rule["description"]
    assert not resources(parsed, "aws_security_group_rule")


def test_security_group_egress_https_out_and_data_stores_in_vpc(parsed):
    for rule in resources(parsed, "aws_vpc_security_group_egress_rule").values():
        if rule["security_group_id"] != "${aws_security_group.this.id}":
            continue  # the smoke hook's own group (test_ecs_smoke_hook.py)
        assert rule["description"]
        assert rule["ip_protocol"] == "tcp", "no all-protocol egress"
        if rule.get("cidr_ipv4") == "0.0.0.0/0":
            # HTTPS to AWS APIs; with blue/green also the load balancer's test listener (the
            # smoke test reaches it through NAT), and only then.
            assert rule["from_port"] == rule["to_port"] in (443, "${var.blue_green.test_port}")
            if rule["from_port"] != 443:
                assert rule["count"] == "${local.blue_green ? 1 : 0}"
        else:
            assert rule["cidr_ipv4"] == "${var.vpc_cidr_block}"


# ---- Interface ----


def test_names_variable_has_exactly_the_expected_keys(variables):
    type_expr = variables["names"]["type"]
    keys = set(re.findall(r"(\w+)\s*=\s*string", type_expr))
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


def test_no_provider_block_and_provider_six(parsed):
    assert "provider" not in parsed
    required = literal(parsed["terraform"][0])["required_providers"][0]["aws"]
    # 6.4.0 added deployment_configuration and load_balancer.advanced_configuration.
    assert required["version"] == ">= 6.4"
