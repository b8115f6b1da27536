"""Security and behaviour of modules/network, read from its HCL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from tfhelpers import blocks, data_sources, locals_of, module_fixture, outputs_of, resources, variables_of
from tfplan import needs_terraform, terraform_test

NAMES_KEYS = {
    "vpc",
    "internet_gateway",
    "public_subnets",
    "private_subnets",
    "nat_gateways",
    "nat_eips",
    "public_route_table",
    "private_route_tables",
    "flow_log",
    "flow_log_group",
    "flow_log_role",
    "flow_log_policy",
    "default_security_group",
    "default_network_acl",
    "endpoint_security_group",
    "s3_endpoint",
}


ROOT = Path(__file__).resolve().parents[2]

module = module_fixture("network")


def statements(module) -> list[dict]:
    return [
        s
        for doc in data_sources(module, "aws_iam_policy_document").values()
        for s in blocks(doc, "statement")
    ]


# ---- Interface ----


def test_names_has_exactly_the_agreed_keys(module):
    names_type = variables_of(module)["names"]["type"]
    keys = set(re.findall(r"(\w+)\s*=", names_type))
    assert keys == NAMES_KEYS


def test_outputs_are_what_the_env_root_needs(module):
    assert set(outputs_of(module)) == {
        "vpc_id",
        "vpc_cidr_block",
        "public_subnet_ids",
        "private_subnet_ids",
        "availability_zones",
        "nat_public_ips",
        "private_route_table_ids",
    }


def test_subnet_cidr_lists_are_validated_against_the_zones(module):
    for name in ("public_subnet_cidrs", "private_subnet_cidrs"):
        conditions = [v["condition"] for v in variables_of(module)[name]["validation"]]
        assert any("length(var.availability_zones)" in c for c in conditions), name


def test_flow_log_retention_is_validated_against_cloudwatch_values(module):
    (validation,) = variables_of(module)["flow_log_retention_days"]["validation"]
    assert "3653" in validation["condition"] and "3653" in validation["error_message"]


# ---- VPC and subnets ----


def test_vpc_has_dns_support_and_hostnames(module):
    vpc = resources(module, "aws_vpc")["this"]
    assert vpc["enable_dns_support"] is True
    assert vpc["enable_dns_hostnames"] is True


def test_subnets_never_auto_assign_public_ips(module):
    for name, subnet in resources(module, "aws_subnet").items():
        assert subnet.get("map_public_ip_on_launch") is False, name


def test_subnets_are_keyed_by_zone(module):
    for name, subnet in resources(module, "aws_subnet").items():
        assert subnet["for_each"] == "${local.zones}", name
        assert subnet["availability_zone"] == "${each.key}", name


def test_default_security_group_has_no_rules(module):
    default_sg = resources(module, "aws_default_security_group")["this"]
    assert default_sg["vpc_id"] == "${aws_vpc.this.id}"
    assert "ingress" not in default_sg
    assert "egress" not in default_sg


# Source ports of the clients whose replies come back through the ACL: NAT gateways and load
# balancers 1024-65535 (VPC User Guide, "Ephemeral ports"); Fargate's Linux tasks 32768-60999.
EPHEMERAL_PORTS = range(1024, 65536)


def acl_decision(rules: list[dict], port: int) -> str:
    """Evaluated like AWS does: the lowest-numbered rule that matches decides; none matching denies."""
    for rule in sorted(rules, key=lambda r: r["rule_no"]):
        ports = rule["protocol"] == "-1" or rule["from_port"] <= port <= rule["to_port"]
        if rule["cidr_block"] == "0.0.0.0/0" and ports:
            return rule["action"]
    return "deny"


def test_default_network_acl_never_drops_return_traffic(module):
    """Stateless: a denied port in 1024-65535 drops the replies of NAT and load balancer connections
    that drew it as their source port; security groups are the filter."""
    acl = resources(module, "aws_default_network_acl")["this"]
    assert acl["default_network_acl_id"] == "${aws_vpc.this.default_network_acl_id}"
    assert "aws_subnet.public" in acl["subnet_ids"] and "aws_subnet.private" in acl["subnet_ids"]
    for direction in ("ingress", "egress"):
        rules = blocks(acl, direction)
        denied = [p for p in EPHEMERAL_PORTS if acl_decision(rules, p) != "allow"]
        assert denied == [], f"{direction}: ports dropped: {denied[:5]}"
        assert acl_decision(rules, 80) == acl_decision(rules, 443) == "allow"


# ---- NAT gateways ----


def test_nat_gateways_and_eips_are_keyed_by_zone(module):
    nat = resources(module, "aws_nat_gateway")["this"]
    eip = resources(module, "aws_eip")["nat"]
    assert nat["for_each"] == eip["for_each"] == "${local.nat_zones}"
    assert nat["subnet_id"] == "${aws_subnet.public[each.key].id}"
    assert nat["allocation_id"] == "${aws_eip.nat[each.key].id}"
    # The map is keyed by zone name (not by position or by mode), so the first zone's
    # gateway keeps its address when switching single <-> per_az.
    assert locals_of(module)["nat_zones"].startswith(
        "${{for zone, index in local.zones : zone => index if"
    )


def test_single_nat_lives_in_the_first_zone(module):
    nat_zones = locals_of(module)["nat_zones"]
    assert 'var.nat == "single" && zone == local.first_zone' in nat_zones
    assert locals_of(module)["first_zone"] == "${var.availability_zones[0]}"
    route = resources(module, "aws_route")["private_nat"]
    assert (
        route["nat_gateway_id"]
        == '${aws_nat_gateway.this[var.nat == "per_az" ? each.key : local.first_zone].id}'
    )


def test_eips_use_domain_vpc_not_the_removed_vpc_argument(module):
    for name, eip in resources(module, "aws_eip").items():
        assert eip["domain"] == "vpc", name
        assert "vpc" not in eip, name


def test_private_subnets_route_only_through_nat(module):
    routes = resources(module, "aws_route")
    assert routes["private_nat"]["route_table_id"] == "${aws_route_table.private[each.key].id}"
    assert "gateway_id" not in routes["private_nat"]
    assert routes["public_internet"]["gateway_id"] == "${aws_internet_gateway.this.id}"
    assert locals_of(module)["nat_routes"].endswith('if var.nat != "none"}}')


def test_nat_mode_is_validated(module):
    (validation,) = variables_of(module)["nat"]["validation"]
    assert validation["condition"] == '${contains(["none", "single", "per_az"], var.nat)}'


# ---- Flow logs ----


def test_flow_log_captures_all_traffic_to_the_module_log_group(module):
    flow_log = resources(module, "aws_flow_log")["this"]
    assert flow_log["vpc_id"] == "${aws_vpc.this.id}"
    assert flow_log["traffic_type"] == "ALL"
    assert flow_log["log_destination_type"] == "cloud-watch-logs"
    assert flow_log["log_destination"] == "${aws_cloudwatch_log_group.flow_log.arn}"
    assert flow_log["iam_role_arn"] == "${aws_iam_role.flow_log.arn}"


def test_flow_log_group_is_encrypted_with_the_cmk(module):
    group = resources(module, "aws_cloudwatch_log_group")["flow_log"]
    assert group["kms_key_id"] == "${var.kms_key_arn}"
    assert group["retention_in_days"] == "${var.flow_log_retention_days}"
    assert group["name"] == "${var.names.flow_log_group}"


def test_flow_log_role_trusts_only_this_accounts_flow_logs(module):
    trust = data_sources(module, "aws_iam_policy_document")["flow_log_assume"]
    (statement,) = blocks(trust, "statement")
    (principal,) = blocks(statement, "principals")
    assert principal == {"type": "Service", "identifiers": ["vpc-flow-logs.amazonaws.com"]}
    conditions = {c["variable"]: c for c in blocks(statement, "condition")}
    assert conditions["aws:SourceAccount"]["test"] == "StringEquals"
    assert conditions["aws:SourceAccount"]["values"] == ["${data.aws_caller_identity.current.account_id}"]
    assert conditions["aws:SourceArn"]["test"] == "ArnLike"
    assert conditions["aws:SourceArn"]["values"] == [
        "arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.region}:"
        "${data.aws_caller_identity.current.account_id}:vpc-flow-log/*"
    ]
    role = resources(module, "aws_iam_role")["flow_log"]
    assert role["assume_role_policy"] == "${data.aws_iam_policy_document.flow_log_assume.json}"


# "IAM role for publishing flow logs to CloudWatch Logs" (VPC User Guide): at least these.
FLOW_LOG_ACTIONS = {
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
}
ACCOUNT_LOG_GROUPS = (
    "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:"
    "${data.aws_caller_identity.current.account_id}:log-group:*"
)


def test_flow_log_role_has_the_documented_permissions_scoped_to_its_log_group(module):
    policy = data_sources(module, "aws_iam_policy_document")["flow_log"]
    granted: dict[str, list[str]] = {}
    for statement in blocks(policy, "statement"):
        assert statement["effect"] == "Allow"
        assert "condition" not in statement
        for action in statement["actions"]:
            granted.setdefault(action, []).extend(statement["resources"])
    assert set(granted) == FLOW_LOG_ACTIONS
    for action, arns in granted.items():
        if action == "logs:DescribeLogGroups":
            # Lists groups: the account's groups of this region is as narrow as it goes.
            assert arns == [ACCOUNT_LOG_GROUPS]
        else:
            assert "${aws_cloudwatch_log_group.flow_log.arn}:*" in arns, action
            assert all(r.startswith("${aws_cloudwatch_log_group.flow_log.arn}") for r in arns), action
    attached = resources(module, "aws_iam_role_policy")["flow_log"]
    assert attached["policy"] == "${data.aws_iam_policy_document.flow_log.json}"
    assert attached["role"] == "${aws_iam_role.flow_log.id}"


def test_no_wildcard_action_in_any_policy(module):
    for statement in statements(module):
        for action in statement.get("actions", []):
            assert "*" not in action, action
        assert statement.get("resources") != ["*"]


# ---- VPC endpoints ----


def test_no_security_group_ingress_from_anywhere(module):
    for name, rule in resources(module, "aws_vpc_security_group_ingress_rule").items():
        assert rule.get("cidr_ipv4") != "0.0.0.0/0", name
        assert rule.get("cidr_ipv6") != "::/0", name
    for name, group in resources(module, "aws_security_group").items():
        assert "ingress" not in group and "egress" not in group, name


def test_endpoint_security_group_admits_https_from_the_vpc_only(module):
    rules = [
        rule
        for rule in resources(module, "aws_vpc_security_group_ingress_rule").values()
        if rule["security_group_id"] == "${aws_security_group.endpoints.id}"
    ]
    assert rules == [
        {
            "security_group_id": "${aws_security_group.endpoints.id}",
            "description": rules[0]["description"],
            "ip_protocol": "tcp",
            "from_port": 443,
            "to_port": 443,
            "cidr_ipv4": "${aws_vpc.this.cidr_block}",
        }
    ]
    assert rules[0]["description"]
    assert resources(module, "aws_vpc_security_group_egress_rule") == {}


def test_s3_gateway_endpoint_serves_the_private_route_tables(module):
    endpoint = resources(module, "aws_vpc_endpoint")["s3"]
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    assert endpoint["service_name"].endswith(".s3")
    assert "aws_route_table.private[zone].id" in endpoint["route_table_ids"]


def test_interface_endpoints_are_private_and_guarded(module):
    endpoint = resources(module, "aws_vpc_endpoint")["interface"]
    assert endpoint["for_each"] == "${toset(var.interface_endpoints)}"
    assert endpoint["vpc_endpoint_type"] == "Interface"
    assert endpoint["private_dns_enabled"] is True
    assert endpoint["security_group_ids"] == ["${aws_security_group.endpoints.id}"]
    assert "aws_subnet.private[zone].id" in endpoint["subnet_ids"]
    assert variables_of(module)["interface_endpoints"]["default"] == []


# ---- The module's own check of interface_endpoints, run by Terraform ----

ENDPOINTS_TEST = """
variables {
  names = {
    vpc = "v", internet_gateway = "i", public_subnets = ["p1", "p2"], private_subnets = ["q1", "q2"],
    nat_gateways = ["n1", "n2"], nat_eips = ["e1", "e2"], public_route_table = "r",
    private_route_tables = ["r1", "r2"], flow_log = "f", flow_log_group = "/f", flow_log_role = "f",
    flow_log_policy = "f", default_security_group = "d", default_network_acl = "d",
    endpoint_security_group = "s", s3_endpoint = "s3"
  }
  cidr_block               = "10.0.0.0/16"
  availability_zones       = ["ap-northeast-1a", "ap-northeast-1c"]
  public_subnet_cidrs      = ["10.0.0.0/24", "10.0.1.0/24"]
  private_subnet_cidrs     = ["10.0.8.0/24", "10.0.9.0/24"]
  nat                      = "none"
  kms_key_arn              = "arn:aws:kms:ap-northeast-1:123456789012:key/k"
  permissions_boundary_arn = "arn:aws:iam::123456789012:policy/b"
}

run "every_listed_service" {
  command   = plan
  variables { interface_endpoints = SERVICES }
}

run "an_unlisted_service" {
  command         = plan
  variables { interface_endpoints = ["ecr.api", "ecs"] }
  expect_failures = [var.interface_endpoints]
}
"""


@needs_terraform
def test_terraform_accepts_exactly_the_services_of_the_shared_list(tmp_path: Path):
    """The module reads interface_endpoints.yaml itself: every name there plans, another is refused."""
    services = yaml.safe_load((ROOT / "modules" / "network" / "interface_endpoints.yaml").read_text(encoding="utf-8"))
    output = terraform_test(tmp_path, ["network"], ENDPOINTS_TEST.replace("SERVICES", json.dumps(services)))
    assert "Success! 2 passed, 0 failed" in output
