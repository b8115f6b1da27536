"""Security and behaviour of modules/elasticache (Valkey/Redis replication group), read from its HCL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tfhelpers import (
    blocks,
    literal,
    locals_of,
    module_fixture,
    outputs_of,
    resources,
    unquote,
    variables_of,
    walk_keys,
)

MODULE = "elasticache"
NAMES_KEYS = {
    "replication_group",
    "subnet_group",
    "parameter_group",
    "security_group",
    "log_group",
    "app_user",
    "default_user",
    "user_group",
}
# Arguments of provider 3.x/4.x examples that provider 6 no longer accepts (or that the old
# examples used in a removed form).
REMOVED_ARGUMENTS = {
    "replication_group_description",
    "number_cache_clusters",
    "availability_zones",
    "cluster_mode",
}


parsed = module_fixture(MODULE)


@pytest.fixture(scope="module")
def res(parsed) -> dict[str, dict[str, Any]]:
    return resources(parsed)


@pytest.fixture(scope="module")
def group(res) -> dict[str, Any]:
    return res["aws_elasticache_replication_group.this"]


# ---- Provider 6 arguments -----------------------------------------------------------------


def test_uses_description_and_num_cache_clusters(group):
    assert group["description"]
    assert group["num_cache_clusters"] == "${var.num_cache_clusters}"


def test_no_removed_argument(group):
    assert not REMOVED_ARGUMENTS & walk_keys(group)


# ---- Encryption ---------------------------------------------------------------------------


def test_encrypted_at_rest_with_the_project_key(group):
    assert group["at_rest_encryption_enabled"] is True
    assert group["kms_key_id"] == "${var.kms_key_arn}"


def test_tls_is_required(group, parsed):
    assert group["transit_encryption_enabled"] is True
    assert group["transit_encryption_mode"] == "required"
    assert outputs_of(parsed)["url"]["value"].startswith("rediss://")


# ---- Authentication: IAM users in a user group ------------------------------------------


def test_clients_must_authenticate_as_users_of_the_group(group, res):
    assert group["user_group_ids"] == ["${aws_elasticache_user_group.this.user_group_id}"]
    members = res["aws_elasticache_user_group.this"]
    assert members["engine"] == "${var.engine}"
    assert members["user_ids"] == [
        "${aws_elasticache_user.default.user_id}",
        "${aws_elasticache_user.app.user_id}",
    ]


def test_the_app_user_authenticates_with_iam_only(res):
    app = res["aws_elasticache_user.app"]
    # IAM authentication needs the user name to equal the user ID.
    assert app["user_name"] == app["user_id"] == "${var.names.app_user}"
    assert blocks(app, "authentication_mode") == [{"type": "iam"}]
    assert not {"passwords", "passwords_wo", "no_password_required"} & set(app)
    assert app["access_string"].startswith("on ") and "-@dangerous" in app["access_string"]


def test_the_default_user_is_disabled_and_its_password_never_in_state(parsed, res):
    default = res["aws_elasticache_user.default"]
    assert default["user_name"] == "default"  # a user group must include one
    assert default["access_string"].split()[0] == "off"
    assert "passwords" not in default and "no_password_required" not in default
    assert default["passwords_wo"] == [
        "${ephemeral.aws_secretsmanager_random_password.default_user.random_password}"
    ]
    ephemeral = {
        unquote(name): literal(body)
        for block in parsed.get("ephemeral", [])
        for rtype, by_name in block.items()
        for name, body in by_name.items()
        if unquote(rtype) == "aws_secretsmanager_random_password"
    }
    assert ephemeral["default_user"]["password_length"] >= 32


def test_connect_arns_are_the_group_and_the_app_user(parsed):
    assert outputs_of(parsed)["connect_arns"]["value"] == [
        "${aws_elasticache_replication_group.this.arn}",
        "${aws_elasticache_user.app.arn}",
    ]
    assert outputs_of(parsed)["app_user_id"]["value"] == "${aws_elasticache_user.app.user_id}"


def test_user_ids_follow_the_elasticache_rules(parsed):
    names = variables_of(parsed)["names"]
    conditions = " ".join(v["condition"] for v in blocks(names, "validation"))
    assert "var.names.app_user" in conditions and "var.names.user_group" in conditions


# ---- No secret in state -------------------------------------------------------------------


def test_no_auth_token_in_state(res):
    for address, body in res.items():
        assert "auth_token" not in walk_keys(body), f"{address} stores an AUTH token in state"


# ---- Availability -------------------------------------------------------------------------


def test_failover_and_multi_az_follow_the_node_count(group, parsed):
    assert group["automatic_failover_enabled"] == "${local.replicated}"
    assert group["multi_az_enabled"] == "${local.replicated}"
    assert locals_of(parsed)["replicated"] == "${var.num_cache_clusters > 1}"
    (validation,) = blocks(variables_of(parsed)["num_cache_clusters"], "validation")
    assert "var.num_cache_clusters >= 1" in validation["condition"]


def test_snapshots_and_maintenance_follow_the_inputs(group):
    assert group["snapshot_retention_limit"] == "${var.snapshot_retention_limit}"
    assert group["snapshot_window"] == "${var.snapshot_window}"
    assert group["maintenance_window"] == "${var.maintenance_window}"
    assert group["auto_minor_version_upgrade"] is True
    assert group["apply_immediately"] is False


def test_overlapping_windows_are_refused_at_plan_time(group):
    conditions = [p["condition"] for lc in blocks(group, "lifecycle") for p in blocks(lc, "precondition")]
    assert "${!local.windows_overlap}" in conditions


# ---- Network exposure ---------------------------------------------------------------------


def test_cache_sits_in_the_private_subnets_behind_its_own_group(group, res):
    assert group["subnet_group_name"] == "${aws_elasticache_subnet_group.this.name}"
    assert res["aws_elasticache_subnet_group.this"]["subnet_ids"] == "${var.private_subnet_ids}"
    assert group["security_group_ids"] == ["${aws_security_group.this.id}"]
    assert group["port"] == "${local.port}"


def test_ingress_only_from_the_given_security_groups_on_6379(parsed):
    rules = resources(parsed, "aws_vpc_security_group_ingress_rule")
    assert rules, "no ingress rule"
    assert locals_of(parsed)["port"] == 6379
    for name, rule in rules.items():
        assert rule["security_group_id"] == "${aws_security_group.this.id}"
        assert rule["referenced_security_group_id"] == "${var.allowed_security_group_ids[count.index]}", name
        assert rule["count"] == "${length(var.allowed_security_group_ids)}"
        assert not {"cidr_ipv4", "cidr_ipv6", "prefix_list_id"} & rule.keys(), (
            f"{name} admits an address range"
        )
        assert (rule["ip_protocol"], rule["from_port"], rule["to_port"]) == (
            "tcp",
            "${local.port}",
            "${local.port}",
        )
        assert rule["description"]


def test_security_group_has_no_inline_rules_and_no_egress(res):
    sg = res["aws_security_group.this"]
    assert not {"ingress", "egress"} & sg.keys()
    assert sg["description"]
    assert not any(address.startswith("aws_vpc_security_group_egress_rule.") for address in res)
    assert not any(address.startswith("aws_security_group_rule.") for address in res)


# ---- Engine and parameters ----------------------------------------------------------------


def test_engine_defaults_to_valkey_and_the_family_follows_the_version(group, res, parsed):
    assert group["engine"] == "${var.engine}"
    assert group["engine_version"] == "${var.engine_version}"
    assert variables_of(parsed)["engine"]["default"] == "valkey"
    assert group["parameter_group_name"] == "${aws_elasticache_parameter_group.this.name}"
    assert res["aws_elasticache_parameter_group.this"]["family"] == "${local.parameter_group}"
    assert locals_of(parsed)["parameter_group"] == "${var.engine}${local.engine_major}"


# ---- Logs ---------------------------------------------------------------------------------


def test_slow_log_goes_to_an_encrypted_log_group(group, res):
    (delivery,) = blocks(group, "log_delivery_configuration")
    assert delivery["log_type"] == "slow-log"
    assert delivery["destination_type"] == "cloudwatch-logs"
    assert delivery["destination"] == "${aws_cloudwatch_log_group.slow_log.name}"
    log_group = res["aws_cloudwatch_log_group.slow_log"]
    assert log_group["kms_key_id"] == "${var.kms_key_arn}"
    assert log_group["retention_in_days"] == "${var.log_retention_days}"


# ---- Interface ----------------------------------------------------------------------------


def test_names_are_taken_literally_from_the_names_input(parsed, res):
    names = variables_of(parsed)["names"]
    assert set(re.findall(r"(\w+)\s*=\s*string", names["type"])) == NAMES_KEYS
    used = {
        res["aws_elasticache_replication_group.this"]["replication_group_id"],
        res["aws_elasticache_subnet_group.this"]["name"],
        res["aws_elasticache_parameter_group.this"]["name"],
        res["aws_security_group.this"]["name"],
        res["aws_cloudwatch_log_group.slow_log"]["name"],
        res["aws_elasticache_user.app"]["user_id"],
        res["aws_elasticache_user.default"]["user_id"],
        res["aws_elasticache_user_group.this"]["user_group_id"],
    }
    assert used == {f"${{var.names.{key}}}" for key in NAMES_KEYS}


def test_outputs_are_what_the_env_root_needs(parsed):
    assert set(outputs_of(parsed)) == {
        "primary_endpoint_address",
        "reader_endpoint_address",
        "port",
        "url",
        "security_group_id",
        "replication_group_id",
        "app_user_id",
        "connect_arns",
    }
