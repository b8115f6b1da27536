"""Security properties of modules/ssm (KMS key and Parameter Store), read from its HCL."""

from __future__ import annotations

import re
from typing import Any

import pytest
from tfhelpers import (
    MODULES,
    blocks,
    data_sources,
    literal,
    locals_of,
    module_fixture,
    outputs_of,
    resources,
    statements_of,
    unquote,
    variables_of,
)

NAMES_KEYS = {"kms_key", "kms_alias"}

# What CloudWatch Logs may do with the key: encryption use only, never administration.
LOGS_ACTIONS = {
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:GenerateDataKeyPairWithoutPlaintext",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
}


parsed = module_fixture("ssm")


@pytest.fixture(scope="module")
def key_policy(parsed) -> list[dict[str, Any]]:
    assert "policy" not in resources(parsed, "aws_kms_key")["this"]  # one place sets it: below
    attached = resources(parsed, "aws_kms_key_policy")["this"]
    assert attached == {
        "key_id": "${aws_kms_key.this.key_id}", "policy": "${data.aws_iam_policy_document.kms_key.json}"}
    return blocks(data_sources(parsed, "aws_iam_policy_document")["kms_key"], "statement")


def test_every_key_policy_statement_names_the_key_itself(parsed):
    """In a key policy "*" means this key, but scanners (checkov's IAM checks) read it as every
    resource; the key's ARN says the same thing unambiguously."""
    for statement in statements_of(data_sources(parsed, "aws_iam_policy_document")["kms_key"]):
        assert statement["resources"] == ["${aws_kms_key.this.arn}"], statement.get("sid")


def test_key_outputs_wait_for_the_key_policy(parsed):
    outputs = outputs_of(parsed)
    for name in ("kms_key_arn", "kms_key_id"):
        assert outputs[name]["depends_on"] == ["${aws_kms_key_policy.this}"], name


def ephemeral_resources(parsed, etype: str) -> dict[str, dict[str, Any]]:
    found = {}
    for block in parsed.get("ephemeral", []):
        for rtype, by_name in block.items():
            if unquote(rtype) == etype:
                found.update({unquote(name): literal(body) for name, body in by_name.items()})
    return found


def statement_principals(statement: dict[str, Any]) -> list[str]:
    return [i for p in blocks(statement, "principals") for i in p["identifiers"]]


def test_names_has_exactly_the_named_resources(parsed):
    assert set(re.findall(r"(\w+)\s*=\s*string", variables_of(parsed)["names"]["type"])) == NAMES_KEYS


# ---- KMS key ----


def test_key_rotation_is_on(parsed):
    key = resources(parsed, "aws_kms_key")["this"]
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == "${var.deletion_window_in_days}"


def test_alias_points_at_the_key_and_comes_from_names(parsed):
    alias = resources(parsed, "aws_kms_alias")["this"]
    assert alias["name"] == "${var.names.kms_alias}"
    assert alias["target_key_id"] == "${aws_kms_key.this.key_id}"


def test_region_uses_the_provider_6_attribute(parsed):
    text = "".join(p.read_text() for p in (MODULES / "ssm").glob("*.tf"))
    assert "data.aws_region.current.region" in text
    assert "data.aws_region.current.name" not in text


def test_only_the_account_root_statement_is_a_wildcard(key_policy):
    for statement in key_policy:
        is_root = any(i.endswith(":root") for i in statement_principals(statement))
        for action in statement.get("actions", []):
            if not is_root:
                assert action != "*" and not action.endswith(":*"), action
        assert "not_actions" not in statement


def test_root_statement_is_the_standard_full_delegation_to_the_account(key_policy):
    """AWS's default key policy statement: kms:* to the account root, so every KMS action
    (also those added later, and kms:PutKeyPolicy) stays delegated to the account's IAM."""
    root = [s for s in key_policy if any(i.endswith(":root") for i in statement_principals(s))]
    assert len(root) == 1
    assert statement_principals(root[0]) == ["arn:${local.partition}:iam::${local.account_id}:root"]
    assert root[0]["actions"] == ["kms:*"]
    assert "condition" not in root[0]


def test_every_principal_is_the_account_root_or_cloudwatch_logs(key_policy):
    for statement in key_policy:
        for principal in blocks(statement, "principals"):
            assert principal["type"] in {"AWS", "Service"}
            for identifier in principal["identifiers"]:
                assert identifier != "*"
                assert identifier.endswith(":root") or identifier.startswith("logs.${local.region}."), identifier


def test_logs_statement_is_limited_by_encryption_context(parsed, key_policy):
    logs = [s for s in key_policy if any(i.startswith("logs.") for i in statement_principals(s))]
    assert len(logs) == 1
    statement = logs[0]
    assert set(statement["actions"]) <= LOGS_ACTIONS
    conditions = blocks(statement, "condition")
    assert conditions == [
        {
            "test": "ArnLike",
            "variable": "kms:EncryptionContext:aws:logs:arn",
            "values": "${local.log_group_arn_patterns}",
        }
    ]
    patterns = locals_of(parsed)["log_group_arn_patterns"]
    assert "var.log_group_prefix" in patterns
    assert ":logs:${local.region}:${local.account_id}:log-group:${prefix}*" in patterns


@pytest.mark.parametrize("prefix", ["todo/dev/", "/todo/dev", "*", "/todo/*/"])
def test_log_group_prefix_validation_rejects_unscoped_prefixes(parsed, prefix):
    condition = variables_of(parsed)["log_group_prefix"]["validation"][0]["condition"]
    pattern = re.search(r'regex\("(.+?)", var\.log_group_prefix\)', condition).group(1)
    assert re.fullmatch(pattern, "/todo/dev/")
    assert not re.fullmatch(pattern, prefix)


# ---- Secure parameters ----


def test_secrets_come_from_an_ephemeral_password(parsed):
    passwords = ephemeral_resources(parsed, "aws_secretsmanager_random_password")
    assert set(passwords) == {"this"}
    password = passwords["this"]
    assert password["for_each"] == "${var.secure_parameters}"
    assert password["password_length"] == "${each.value.length}"


def test_secure_parameters_are_write_only_secure_strings(parsed):
    secure = resources(parsed, "aws_ssm_parameter")["secure"]
    assert secure["for_each"] == "${var.secure_parameters}"
    assert secure["type"] == "SecureString"
    assert secure["key_id"] == "${aws_kms_key.this.arn}"
    assert secure["value_wo"] == "${ephemeral.aws_secretsmanager_random_password.this[each.key].random_password}"
    assert secure["value_wo_version"] == "${var.secret_version}"
    # Neither argument that would store the value in state.
    assert "value" not in secure
    assert "insecure_value" not in secure


def test_only_the_secure_parameters_hold_secrets(parsed):
    for name, parameter in resources(parsed, "aws_ssm_parameter").items():
        if parameter.get("type") == "SecureString":
            assert "value_wo" in parameter and "value" not in parameter, name
        else:
            assert "value_wo" not in parameter, name
            assert "ephemeral." not in str(parameter.get("value", "")), name


def test_secure_parameter_input_carries_no_value(parsed):
    attributes = re.findall(r"(\w+)\s*=", variables_of(parsed)["secure_parameters"]["type"])
    assert "value" not in attributes


def test_no_output_exposes_a_secret(parsed):
    for block in parsed["output"]:
        for name, body in literal(block).items():
            value = str(body["value"])
            assert "ephemeral." not in value and "value_wo" not in value, name
            assert ".value" not in value.replace("parameter.arn", ""), name


# ---- Every policy document ----
