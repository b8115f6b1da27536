"""Security and behaviour of modules/rds (PostgreSQL), read from its HCL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tfhelpers import (
    ROOT,
    blocks,
    data_sources,
    locals_of,
    module_fixture,
    outputs_of,
    resources,
    validation_regex,
    variables_of,
    walk_keys,
)

MODULE = "rds"
NAMES_KEYS = {
    "instance",
    "final_snapshot",
    "subnet_group",
    "parameter_group",
    "security_group",
    "monitoring_role",
}
SECRET_ARGUMENTS = {"password", "password_wo", "password_wo_version"}


parsed = module_fixture(MODULE)


@pytest.fixture(scope="module")
def res(parsed) -> dict[str, dict[str, Any]]:
    return resources(parsed)


@pytest.fixture(scope="module")
def db(res) -> dict[str, Any]:
    return res["aws_db_instance.this"]


# ---- Encryption at rest -------------------------------------------------------------------


def test_storage_is_gp3_and_encrypted_with_the_project_key(db):
    assert db["storage_type"] == "gp3"
    assert db["storage_encrypted"] is True
    assert db["kms_key_id"] == "${var.kms_key_arn}"
    assert db["allocated_storage"] == "${var.allocated_storage}"
    assert db["max_allocated_storage"] == "${var.max_allocated_storage}"


def test_performance_insights_on_and_encrypted_with_the_project_key(db):
    assert db["performance_insights_enabled"] is True
    assert db["performance_insights_kms_key_id"] == "${var.kms_key_arn}"
    assert db["performance_insights_retention_period"] == "${var.performance_insights_retention_days}"


# ---- No secret in state -------------------------------------------------------------------


def test_master_password_is_managed_by_rds_in_secrets_manager(db):
    assert db["manage_master_user_password"] is True
    assert db["master_user_secret_kms_key_id"] == "${var.kms_key_arn}"


def test_no_password_argument_anywhere(res):
    for address, body in res.items():
        assert not SECRET_ARGUMENTS & walk_keys(body), f"{address} sets a password argument"


def test_secret_arn_output_comes_from_the_managed_secret(parsed):
    assert (
        outputs_of(parsed)["master_user_secret_arn"]["value"]
        == "${aws_db_instance.this.master_user_secret[0].secret_arn}"
    )


# ---- Network exposure ---------------------------------------------------------------------


def test_instance_is_private(db, res):
    assert db["publicly_accessible"] is False
    assert db["db_subnet_group_name"] == "${aws_db_subnet_group.this.name}"
    assert res["aws_db_subnet_group.this"]["subnet_ids"] == "${var.private_subnet_ids}"
    assert db["vpc_security_group_ids"] == ["${aws_security_group.this.id}"]


def test_ingress_only_from_the_given_security_groups_on_5432(parsed, res):
    rules = resources(parsed, "aws_vpc_security_group_ingress_rule")
    assert rules, "no ingress rule"
    assert locals_of(parsed)["port"] == 5432
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
    group = res["aws_security_group.this"]
    assert not {"ingress", "egress"} & group.keys()
    assert group["description"]
    assert not any(address.startswith("aws_vpc_security_group_egress_rule.") for address in res)
    assert not any(address.startswith("aws_security_group_rule.") for address in res)


# ---- Encryption in transit ----------------------------------------------------------------


def test_parameter_group_forces_tls_and_logs_connections_and_slow_statements(res, parsed):
    group = res["aws_db_parameter_group.this"]
    params = {p["name"]: p["value"] for p in blocks(group, "parameter")}
    assert params["rds.force_ssl"] == "1"
    assert params["log_connections"] == "1"
    assert params["log_disconnections"] == "1"
    assert params["log_min_duration_statement"] == "${tostring(var.log_min_duration_ms)}"
    assert variables_of(parsed)["log_min_duration_ms"]["default"] == 1000
    assert group["family"] == "${local.parameter_group}"
    assert locals_of(parsed)["parameter_group"] == "postgres${local.engine_major}"


def test_instance_uses_the_parameter_group_and_a_current_ca(db):
    assert db["parameter_group_name"] == "${aws_db_parameter_group.this.name}"
    assert db["ca_cert_identifier"] == "rds-ca-rsa2048-g1"


# ---- Engine -------------------------------------------------------------------------------


def test_engine_is_postgres_16_or_newer(db, parsed):
    assert db["engine"] == "postgres"
    assert db["engine_version"] == "${var.engine_version}"
    version = variables_of(parsed)["engine_version"]
    assert int(version["default"].split(".")[0]) >= 16
    conditions = " ".join(v["condition"] for v in blocks(version, "validation"))
    assert 'try(tonumber(split(".", var.engine_version)[0]) >= 16, false)' in conditions
    pattern = validation_regex(version)
    for good in ("16", "17", "16.10", "17.6"):
        assert re.fullmatch(pattern, good), good
    for bad in ("17.6.1", "v17", "latest", "17."):
        assert not re.fullmatch(pattern, bad), bad


def test_changes_wait_for_the_maintenance_window(db):
    assert db["apply_immediately"] is False
    assert db["auto_minor_version_upgrade"] is True
    assert "allow_major_version_upgrade" not in db or db["allow_major_version_upgrade"] is False


# ---- Backups, deletion, logs, monitoring ---------------------------------------------------


def test_backups_snapshots_and_deletion_follow_the_inputs(db):
    assert db["backup_retention_period"] == "${var.backup_retention_days}"
    assert db["backup_window"] == "${var.backup_window}"
    assert db["maintenance_window"] == "${var.maintenance_window}"
    assert db["copy_tags_to_snapshot"] is True
    assert db["deletion_protection"] == "${var.deletion_protection}"
    assert db["multi_az"] == "${var.multi_az}"
    assert db["skip_final_snapshot"] == "${!var.final_snapshot}"
    # Unique per deletion: the name plus the creation time, fixed at create.
    assert db["final_snapshot_identifier"] == '${var.names.final_snapshot}-${formatdate("YYYYMMDDhhmmss", timestamp())}'
    assert "final_snapshot_identifier" in blocks(db, "lifecycle")[0]["ignore_changes"]


def test_overlapping_windows_are_refused_at_plan_time(db):
    conditions = [p["condition"] for lc in blocks(db, "lifecycle") for p in blocks(lc, "precondition")]
    assert "${!local.windows_overlap}" in conditions


def test_logs_are_exported_to_groups_created_encrypted_first(db, parsed):
    # Exports follow the groups this module creates, so RDS never creates them unencrypted.
    assert db["enabled_cloudwatch_logs_exports"] == "${sort(keys(aws_cloudwatch_log_group.exports))}"
    group = resources(parsed, "aws_cloudwatch_log_group")["exports"]
    assert group["for_each"] == "${var.names.log_groups}"
    assert group["kms_key_id"] == "${var.kms_key_arn}"
    assert group["retention_in_days"] == "${var.log_retention_days}"


def test_the_environments_export_postgresql_and_upgrade_logs():
    from infra.render import Project, load

    for env in ("dev", "stg", "prod"):
        _, _, names = load(Project(ROOT), env)
        assert set(names.by_module["rds"]["log_groups"]) == {"postgresql", "upgrade"}


def test_enhanced_monitoring_and_iam_auth_are_on(db, parsed):
    assert db["monitoring_interval"] == "${var.monitoring_interval}"
    assert db["monitoring_role_arn"] == "${aws_iam_role.monitoring.arn}"
    (validation,) = blocks(variables_of(parsed)["monitoring_interval"], "validation")
    allowed = re.search(r"contains\(\[([0-9, ]+)\]", validation["condition"]).group(1)
    assert "0" not in allowed.replace(" ", "").split(","), "enhanced monitoring must not be switchable off"
    assert db["iam_database_authentication_enabled"] is True


# ---- IAM ----------------------------------------------------------------------------------


def test_no_wildcard_action_in_any_policy_document(parsed):
    docs = data_sources(parsed, "aws_iam_policy_document")
    assert docs
    for name, doc in docs.items():
        for statement in blocks(doc, "statement"):
            assert "not_actions" not in statement, name
            for action in statement["actions"]:
                assert "*" not in action, f"{name}: {action}"


def test_monitoring_role_is_assumable_only_by_rds_monitoring_of_this_account(parsed, res):
    doc = data_sources(parsed, "aws_iam_policy_document")["monitoring_assume"]
    (statement,) = blocks(doc, "statement")
    assert statement["actions"] == ["sts:AssumeRole"]
    (principal,) = blocks(statement, "principals")
    assert principal == {"type": "Service", "identifiers": ["monitoring.rds.amazonaws.com"]}
    (condition,) = blocks(statement, "condition")
    assert condition["variable"] == "aws:SourceAccount"
    role = res["aws_iam_role.monitoring"]
    assert role["assume_role_policy"] == "${data.aws_iam_policy_document.monitoring_assume.json}"
    attachment = res["aws_iam_role_policy_attachment.monitoring"]
    assert attachment["policy_arn"].endswith(":iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole")


# ---- Interface ----------------------------------------------------------------------------


def test_names_are_taken_literally_from_the_names_input(parsed, res):
    names = variables_of(parsed)["names"]
    assert set(re.findall(r"(\w+)\s*=\s*string", names["type"])) == NAMES_KEYS
    used = {
        res["aws_db_instance.this"]["identifier"],
        # Extended with its creation time (see the final snapshot test), the one exception.
        res["aws_db_instance.this"]["final_snapshot_identifier"].split("}-")[0] + "}",
        res["aws_db_subnet_group.this"]["name"],
        res["aws_db_parameter_group.this"]["name"],
        res["aws_security_group.this"]["name"],
        res["aws_iam_role.monitoring"]["name"],
    }
    assert used == {f"${{var.names.{key}}}" for key in NAMES_KEYS}


def test_outputs_are_what_the_env_root_needs(parsed):
    assert set(outputs_of(parsed)) == {
        "address",
        "port",
        "db_name",
        "username",
        "master_user_secret_arn",
        "security_group_id",
        "instance_identifier",
        "app_username",
        "resource_id",
        "app_connect_arn",
        "instance_arn",
    }


def test_iam_connect_arn_names_the_app_user_of_this_instance_by_resource_id(parsed):
    assert outputs_of(parsed)["app_connect_arn"]["value"] == "${local.app_connect_arn}"
    arn = locals_of(parsed)["app_connect_arn"]
    assert arn == (
        "arn:${data.aws_partition.current.partition}:rds-db:${data.aws_region.current.region}:"
        "${data.aws_caller_identity.current.account_id}:dbuser:"
        "${aws_db_instance.this.resource_id}/${var.app_username}"
    )
    assert "*" not in arn


def test_app_username_cannot_be_the_master_or_a_reserved_role(parsed):
    condition = blocks(variables_of(parsed)["app_username"], "validation")[0]["condition"]
    assert "var.username" in condition and "rds_iam" in condition
