"""modules/ecs/smoke_hook.tf: the blue/green smoke-test lifecycle hook, read from its HCL.

ECS invokes a Lambda function at POST_TEST_TRAFFIC_SHIFT of every deployment of a blue/green
service, as a role of its own that may invoke that function only; the function runs in the
private subnets with a security group of its own, an execution role of its own and its own log
group (Amazon ECS Developer Guide: "Lifecycle hooks for Amazon ECS service deployments",
"Permissions required for Lambda functions in Amazon ECS blue/green deployments")."""

from __future__ import annotations

from typing import Any

from tfhelpers import as_list, blocks, data_sources, locals_of, module_fixture, resources, statements_of

BLUE_GREEN_ONLY = "${local.blue_green ? 1 : 0}"

parsed = module_fixture("ecs")


def statements(parsed: Any, document: str) -> dict[str, dict[str, Any]]:
    return {s.get("sid", ""): s for s in statements_of(data_sources(parsed, "aws_iam_policy_document")[document])}


def test_every_deployment_waits_for_the_hook_after_the_test_traffic_shift(parsed):
    service = resources(parsed, "aws_ecs_service")["this"]
    (config,) = blocks(service, "deployment_configuration")
    (dynamic,) = blocks(config, "dynamic")
    hook = dynamic["lifecycle_hook"]
    # Only a blue/green service has a test listener to smoke-test and stages to hold.
    assert hook["for_each"] == "${local.blue_green ? [1] : []}"
    assert blocks(hook, "content")[0] == {
        "hook_target_arn": "${aws_lambda_function.smoke_hook[0].arn}",
        "role_arn": "${aws_iam_role.hook_invoke[0].arn}",
        # Green serves all test traffic; production is still on blue.
        "lifecycle_stages": ["POST_TEST_TRAFFIC_SHIFT"],
    }
    # The invoke permission exists before any deployment needs it.
    assert "${aws_iam_role_policy.hook_invoke}" in service["depends_on"]


def test_everything_of_the_hook_exists_with_blue_green_only(parsed):
    for rtype, name in [
        ("aws_lambda_function", "smoke_hook"),
        ("aws_security_group", "smoke_hook"),
        ("aws_vpc_security_group_egress_rule", "smoke_hook_test_listener"),
        ("aws_iam_role", "smoke_hook"),
        ("aws_iam_role_policy", "smoke_hook"),
        ("aws_iam_role", "hook_invoke"),
        ("aws_iam_role_policy", "hook_invoke"),
    ]:
        assert resources(parsed, rtype)[name]["count"] == BLUE_GREEN_ONLY, (rtype, name)
    assert "local.blue_green ? {smoke_hook = var.names.smoke_hook_log_group} : {}" in locals_of(parsed)["log_groups"]


def test_ecs_invokes_the_hook_as_the_guide_s_role_and_may_invoke_this_function_only(parsed):
    role = resources(parsed, "aws_iam_role")["hook_invoke"]
    assert role["name"] == "${var.names.hook_invoke_role}"
    assert role["permissions_boundary"] == "${var.permissions_boundary_arn}"
    # The trust policy exactly as the ECS guide gives it: ecs.amazonaws.com, sts:AssumeRole, no condition.
    assert role["assume_role_policy"] == "${data.aws_iam_policy_document.ecs_infrastructure_assume.json}"
    (trust,) = statements_of(data_sources(parsed, "aws_iam_policy_document")["ecs_infrastructure_assume"])
    assert blocks(trust, "principals") == [{"type": "Service", "identifiers": ["ecs.amazonaws.com"]}]
    assert trust["actions"] == ["sts:AssumeRole"] and not blocks(trust, "condition")
    policy = resources(parsed, "aws_iam_role_policy")["hook_invoke"]
    assert policy["role"] == "${aws_iam_role.hook_invoke[0].id}"
    assert statements(parsed, "hook_invoke") == {"InvokeSmokeHook": {
        "sid": "InvokeSmokeHook",
        "actions": ["lambda:InvokeFunction"],
        "resources": ["${aws_lambda_function.smoke_hook[0].arn}"],
    }}


def test_the_function_runs_in_the_private_subnets_with_its_own_group_role_and_logs(parsed):
    function = resources(parsed, "aws_lambda_function")["smoke_hook"]
    assert function["function_name"] == "${var.names.smoke_hook_function}"
    assert function["role"] == "${aws_iam_role.smoke_hook[0].arn}"
    assert function["handler"] == "smoke_hook.handler"  # deploy/smoke_hook.py, the package's one file
    assert function["runtime"].startswith("python3.")
    assert function["filename"] == "${var.blue_green.smoke_hook_package}"
    assert function["source_code_hash"] == "${filebase64sha256(var.blue_green.smoke_hook_package)}"
    assert function["timeout"] == "${var.blue_green.smoke_hook_timeout}"
    assert blocks(function, "vpc_config") == [{
        "subnet_ids": "${var.private_subnet_ids}",
        "security_group_ids": ["${aws_security_group.smoke_hook[0].id}"],
    }]
    assert blocks(function, "environment") == [{"variables": {"SMOKE_TEST_URL": "${var.blue_green.test_url}"}}]
    (logging,) = blocks(function, "logging_config")
    assert logging["log_group"] == '${aws_cloudwatch_log_group.this["smoke_hook"].name}'
    assert blocks(function, "tracing_config") == [{"mode": "Active"}]
    assert "${aws_iam_role_policy.smoke_hook}" in function["depends_on"]


def test_the_log_group_has_the_environment_s_retention_and_key(parsed):
    """One of the module's log groups (logs.tf), so made as they are: not the audit-trail retention."""
    assert "smoke_hook = var.names.smoke_hook_log_group" in locals_of(parsed)["log_groups"]
    group = resources(parsed, "aws_cloudwatch_log_group")["this"]
    assert group["retention_in_days"].startswith('${each.key == "exec" ?')
    assert group["for_each"] == "${local.log_groups}"
    assert group["kms_key_id"] == "${var.kms_key_arn}"
    assert "var.log_retention_days" in group["retention_in_days"]


def test_the_function_s_group_lets_it_reach_the_test_listener_and_nothing_else(parsed):
    group = resources(parsed, "aws_security_group")["smoke_hook"]
    assert group["name"] == "${var.names.smoke_hook_security_group}" and group["vpc_id"] == "${var.vpc_id}"
    assert "ingress" not in group and "egress" not in group
    own = [r for r in resources(parsed, "aws_vpc_security_group_egress_rule").values()
           if r["security_group_id"] == "${aws_security_group.smoke_hook[0].id}"]
    assert own == [resources(parsed, "aws_vpc_security_group_egress_rule")["smoke_hook_test_listener"]]
    (rule,) = own
    assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == (
        "tcp", "${var.blue_green.test_port}", "${var.blue_green.test_port}")
    # Through NAT to the load balancer's public addresses, which are not fixed; its listener
    # admits only the NAT gateways.
    assert rule["cidr_ipv4"] == "0.0.0.0/0"
    assert not [r for r in resources(parsed, "aws_vpc_security_group_ingress_rule").values()
                if "smoke_hook" in r["security_group_id"]]


def test_the_execution_role_is_lambda_s_and_least_privilege(parsed):
    role = resources(parsed, "aws_iam_role")["smoke_hook"]
    assert role["name"] == "${var.names.smoke_hook_role}"
    assert role["permissions_boundary"] == "${var.permissions_boundary_arn}"
    assert role["assume_role_policy"] == "${data.aws_iam_policy_document.lambda_assume.json}"
    (trust,) = statements_of(data_sources(parsed, "aws_iam_policy_document")["lambda_assume"])
    assert blocks(trust, "principals") == [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]
    stmts = statements(parsed, "smoke_hook")
    assert set(stmts) == {"WriteOwnLogs", "VpcNetworkInterfaces", "VpcDescribe", "XRayTraces"}
    assert set(stmts["WriteOwnLogs"]["actions"]) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert stmts["WriteOwnLogs"]["resources"] == ['${aws_cloudwatch_log_group.this["smoke_hook"].arn}:*']
    # The ENI actions of AWSLambdaVPCAccessExecutionRole (Lambda guide, "Giving Lambda functions
    # access to resources in an Amazon VPC"), those that change one held to this account and region.
    assert set(stmts["VpcNetworkInterfaces"]["actions"]) == {
        "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}
    assert stmts["VpcNetworkInterfaces"]["resources"] == [
        "arn:${local.partition}:ec2:${local.region}:${local.account_id}:*/*"]
    assert set(stmts["VpcDescribe"]["actions"]) == {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"}
    assert set(stmts["XRayTraces"]["actions"]) == {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
    # Nothing else: it calls no AWS API and reads no secret.
    actions = {a for s in stmts.values() for a in as_list(s["actions"])}
    assert not any(a.startswith(("ssm:", "secretsmanager:", "kms:", "lambda:", "ecs:")) for a in actions)
