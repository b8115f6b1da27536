"""Security properties that hold across every module (modules/bootstrap included)."""

from __future__ import annotations

import pytest
from tfhelpers import MODULES, blocks, data_sources, load_dir, resources

FOLDERS = sorted(p for p in MODULES.iterdir() if (p / "main.tf").exists())
# A permissions boundary grants nothing: it is the ceiling every role of the environment lives
# under, so it is written as "everything but IAM, STS, Organizations and Account"
# (modules/bootstrap/boundary.tf; what it allows is evaluated in tests/github/test_ci_identities.py).
BOUNDARIES = {("bootstrap", "role_boundary")}
IDS = [p.name for p in FOLDERS]

# Arguments whose values Terraform keeps in state: never set them (write-only twins are fine).
STATE_STORED_SECRETS = {
    "aws_db_instance": {"password"},
    "aws_rds_cluster": {"master_password"},
    "aws_elasticache_replication_group": {"auth_token"},
    "aws_ssm_parameter": {"value", "insecure_value"},
    "aws_secretsmanager_secret_version": {"secret_string", "secret_binary"},
}


def statements(folder):
    for name, doc in data_sources(load_dir(folder), "aws_iam_policy_document").items():
        for statement in blocks(doc, "statement"):
            yield name, statement


def is_account_root_key_delegation(statement) -> bool:
    """kms:* to exactly the account root, in a key policy (whose resource is the key itself)."""
    principals = blocks(statement, "principals")
    return (
        len(principals) == 1
        and principals[0]["type"] == "AWS"
        and len(principals[0]["identifiers"]) == 1
        and principals[0]["identifiers"][0].endswith(":root")
        and "condition" not in statement
    )


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_no_wildcard_action_is_allowed(folder):
    for name, statement in statements(folder):
        if statement.get("effect", "Allow") == "Deny":
            continue  # a deny of everything (e.g. non-TLS access) narrows, it never grants
        if (folder.name, name) in BOUNDARIES:
            continue
        actions = statement.get("actions", [])
        assert isinstance(actions, list), f"{name}: actions must be a literal list"
        if actions == ["kms:*"] and is_account_root_key_delegation(statement):
            continue  # AWS's default key policy statement: hands the key to the account's IAM
        for action in actions:
            assert action != "*" and not action.endswith(":*"), f"{folder.name}: {name} allows {action}"
        assert "not_actions" not in statement, f"{folder.name}: {name} uses not_actions"


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_no_secret_in_a_state_stored_argument(folder):
    for address, body in resources(load_dir(folder)).items():
        rtype = address.split(".")[0]
        forbidden = STATE_STORED_SECRETS.get(rtype, set())
        if rtype == "aws_ssm_parameter" and body.get("type") != "SecureString":
            continue  # plain settings are not secrets
        assert not forbidden & set(body), f"{folder.name}: {address} sets {sorted(forbidden & set(body))}"


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_no_open_ingress_except_the_load_balancer(folder):
    for address, body in resources(load_dir(folder), "aws_vpc_security_group_ingress_rule").items():
        if body.get("cidr_ipv4") == "0.0.0.0/0" or body.get("cidr_ipv6") == "::/0":
            assert folder.name == "proxy_server", f"{folder.name}: {address} is open to the internet"
            assert body.get("from_port") in (80, 443) and body.get("to_port") == body.get("from_port")
    for address, body in resources(load_dir(folder), "aws_security_group").items():
        assert "ingress" not in body, f"{folder.name}: {address}: inline rules hide from review; use rule resources"


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_log_groups_are_encrypted_and_expire(folder):
    for address, body in resources(load_dir(folder), "aws_cloudwatch_log_group").items():
        assert body.get("kms_key_id"), f"{folder.name}: {address} is not KMS-encrypted"
        assert body.get("retention_in_days"), f"{folder.name}: {address} keeps logs forever"


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_kms_keys_rotate(folder):
    for address, body in resources(load_dir(folder), "aws_kms_key").items():
        assert body.get("enable_key_rotation") is True, f"{folder.name}: {address}"


def test_buckets_are_only_made_by_the_secure_bucket_module():
    for folder in FOLDERS:
        if folder.name != "s3_bucket":
            assert not resources(load_dir(folder), "aws_s3_bucket"), f"{folder.name} creates a bucket itself"
