"""modules/bootstrap and the roots rendered from it (envs/bootstrap/ENV): each environment's state
bucket and key, CI roles and boundary. What the roles may do is evaluated in
tests/github/test_ci_identities.py, on the policies the provider writes."""

from __future__ import annotations

import re

import pytest
from tfhelpers import ROOT, blocks, data_sources, literal, load_dir, named_blocks, outputs_of, resources, variables_of

MODULE = ROOT / "modules" / "bootstrap"
ENVS = ("dev", "stg", "prod")


@pytest.fixture(scope="module")
def root():
    return load_dir(MODULE)


def bootstrap_root(env: str):
    return load_dir(ROOT / "envs" / "bootstrap" / env)


# ---- The generated roots ----


@pytest.mark.parametrize("env", ENVS)
def test_no_backend_state_stays_local(env):
    for settings in literal(bootstrap_root(env)["terraform"]):
        assert "backend" not in settings
        assert "cloud" not in settings


@pytest.mark.parametrize("env", ENVS)
def test_versions_are_pinned(env):
    (settings,) = literal(bootstrap_root(env)["terraform"])
    assert settings["required_version"] == ">= 1.11"
    (providers,) = settings["required_providers"]
    assert providers["aws"] == {"source": "hashicorp/aws", "version": "~> 6.0"}


@pytest.mark.parametrize("env", ENVS)
def test_provider_is_locked_to_the_environments_account_and_tags_everything(env):
    provider = named_blocks(bootstrap_root(env), "provider")["aws"]
    env_provider = named_blocks(load_dir(ROOT / "envs" / env), "provider")["aws"]
    assert provider["allowed_account_ids"] == env_provider["allowed_account_ids"]
    assert provider["region"] == env_provider["region"]
    (default_tags,) = blocks(provider, "default_tags")
    tags = default_tags["tags"]
    assert tags["Env"] == env
    assert tags["ManagedBy"] == "terraform"
    assert "System" in tags


@pytest.mark.parametrize("env", ENVS)
def test_the_first_environment_of_an_account_creates_its_account_wide_resources(env):
    (call,) = [literal(m)["bootstrap"] for m in bootstrap_root(env)["module"]]
    # The committed YAML gives each environment its own account: each is its account's first.
    assert call["github_oidc_provider_arn"] is None
    assert call["service_linked_roles"] == "${local.service_linked_roles}"
    assert call["account_peers"] == []
    imports = bootstrap_root(env)["import"]
    assert imports and literal(imports[0])["for_each"] == "${module.bootstrap.existing_service_linked_roles}"


def test_variables_are_validated(root):
    declared = variables_of(root)
    for name in ("region", "state_bucket_name", "kms_alias", "github_repository", "github_branch",
                 "github_oidc_provider_arn", "account_peers", "pass_roles_without_service", "env", "system"):
        assert declared[name].get("validation"), name
    for name in ("state_bucket_name", "kms_alias", "github_repository", "github_branch", "env"):
        assert "default" not in declared[name], name
    assert "alias/" in declared["kms_alias"]["validation"][0]["condition"]


def test_outputs(root):
    declared = outputs_of(root)
    assert set(declared) == {"state_bucket_name", "state_bucket_arn", "kms_key_arn",
                             "github_oidc_provider_arn", "github_plan_role_arn", "github_apply_role_arn",
                             "github_apply_subject", "role_boundary_arn", "existing_service_linked_roles"}
    for name, body in declared.items():
        assert body.get("description"), name


def test_every_role_of_the_environment_root_carries_the_boundary_bootstrap_owns():
    boundary = named_blocks(load_dir(ROOT / "envs" / "dev"), "module")
    for name in ("ecs", "batch", "codepipeline", "network", "rds"):
        assert boundary[name]["permissions_boundary_arn"] == (
            "arn:aws:iam::111111111111:policy/todo-dev-sec-role-boundary-policy"), name
    assert resources(load_dir(MODULE), "aws_iam_policy")["role_boundary"]["name"] == "${var.role_boundary_policy_name}"
    (call,) = [literal(m)["bootstrap"] for m in bootstrap_root("dev")["module"]]
    assert call["role_boundary_policy_name"] == "todo-dev-sec-role-boundary-policy"


# ---- KMS key ----


def test_state_key_rotates_and_cannot_be_destroyed_by_terraform(root):
    key = resources(root, "aws_kms_key")["state"]
    assert key["enable_key_rotation"] is True
    assert key["deletion_window_in_days"] == 30
    assert key["lifecycle"] == [{"prevent_destroy": True}]


def test_state_key_has_an_alias(root):
    alias = resources(root, "aws_kms_alias")["state"]
    assert alias["name"] == "${var.kms_alias}"
    assert alias["target_key_id"] == "${aws_kms_key.state.key_id}"


def test_key_policy_is_the_standard_full_delegation_to_the_account(root):
    attached = resources(root, "aws_kms_key_policy")["state"]
    assert attached["policy"] == "${data.aws_iam_policy_document.state_key.json}"
    (statement,) = blocks(data_sources(root, "aws_iam_policy_document")["state_key"], "statement")
    assert statement["effect"] == "Allow"
    (principal,) = blocks(statement, "principals")
    assert principal["type"] == "AWS"
    assert principal["identifiers"] == [
        "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
    ]
    # AWS's default statement: every KMS action, present and future, delegated to IAM.
    assert statement["actions"] == ["kms:*"]
    assert "condition" not in statement
    assert statement["resources"] == ["${aws_kms_key.state.arn}"]


# ---- State bucket ----


def test_state_bucket_uses_the_shared_module_with_the_key(root):
    bucket = named_blocks(root, "module")["state_bucket"]
    assert bucket["source"] == "../s3_bucket"
    assert bucket["name"] == "${var.state_bucket_name}"
    assert bucket["kms_key_arn"] == "${aws_kms_key.state.arn}"
    assert bucket["versioning"] is True
    assert bucket["force_destroy"] is False
    assert resources(root, "aws_s3_bucket") == {}


def test_no_tfvars_is_committed():
    # The roots are generated with every value a literal; nothing else may set values.
    assert not list((ROOT / "envs" / "bootstrap").rglob("*.tfvars"))


# ---- State encryption ----


def bootstrap_values(env: str) -> dict[str, str]:
    text = (ROOT / "envs" / "bootstrap" / env / "main.tf").read_text(encoding="utf-8")
    values = dict(re.findall(r'^\s*(\w+)\s*=\s*"([^"]*)"$', text, flags=re.MULTILINE))
    providers = (ROOT / "envs" / "bootstrap" / env / "providers.tf").read_text(encoding="utf-8")
    values["account"] = re.search(r'allowed_account_ids = \["(\d{12})"\]', providers).group(1)
    return values


def backend(env: str) -> dict[str, object]:
    parsed = load_dir(ROOT / "envs" / env)
    (settings,) = [s for s in literal(parsed["terraform"]) if "backend" in s]
    (s3,) = [b["s3"] for b in settings["backend"]]
    return s3


@pytest.mark.parametrize("env", ENVS)
def test_every_backend_encrypts_state_with_its_own_bootstraps_key(env):
    values = bootstrap_values(env)
    s3 = backend(env)
    assert s3["encrypt"] is True
    assert s3["bucket"] == values["state_bucket_name"]
    assert values["state_bucket_name"].startswith(f"todo-{env}-")
    assert s3["kms_key_id"] == f"arn:aws:kms:{values['region']}:{values['account']}:{values['kms_alias']}"


def state_policy(root) -> list[dict]:
    module = next(literal(m)["state_bucket"] for m in root["module"] if "state_bucket" in literal(m))
    assert module["policy_documents"] == ["${data.aws_iam_policy_document.state_objects.json}"]
    return blocks(data_sources(root, "aws_iam_policy_document")["state_objects"], "statement")


def denied(statements: list[dict], request: dict[str, str], substitutions: dict[str, str]) -> bool:
    """IAM's evaluation of these Deny statements for a PutObject with the given headers. With
    StringNotEqualsIfExists, an absent key leaves the statement out; a present one denies when
    it equals none of the values."""
    for statement in statements:
        assert statement["effect"] == "Deny" and statement["actions"] == ["s3:PutObject"]
        (condition,) = blocks(statement, "condition")
        assert condition["test"] == "StringNotEqualsIfExists"
        value = request.get(condition["variable"])
        allowed = [substitutions.get(v, v) for v in condition["values"]]
        if value is not None and value not in allowed:
            return True
    return False


def test_state_bucket_refuses_puts_that_are_not_sse_kms_with_the_state_key(root):
    statements = state_policy(root)
    alias_arn = backend("dev")["kms_key_id"]
    key_arn = "arn:aws:kms:ap-northeast-1:123456789012:key/1111-2222"
    substitutions = {"${aws_kms_key.state.arn}": key_arn, "${local.state_key_alias_arn}": alias_arn}
    sse, key = "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id"
    # What Terraform's S3 backend sends for the state, the lock file and the digest:
    assert not denied(statements, {sse: "aws:kms", key: alias_arn}, substitutions)
    assert not denied(statements, {sse: "aws:kms", key: key_arn}, substitutions)
    # No header at all: the bucket's default encryption (this key) applies; multipart parts.
    assert not denied(statements, {}, substitutions)
    # Anything else is refused.
    assert denied(statements, {sse: "AES256"}, substitutions)
    assert denied(statements, {sse: "aws:kms", key: "arn:aws:kms:ap-northeast-1:123456789012:alias/other"},
                  substitutions)
    assert denied(statements, {sse: "aws:kms:dsse", key: alias_arn}, substitutions)


def test_state_key_alias_arn_is_built_from_the_alias_variable(root):
    from tfhelpers import locals_of

    assert locals_of(root)["state_key_alias_arn"] == (
        "arn:${data.aws_partition.current.partition}:kms:${var.region}:"
        "${data.aws_caller_identity.current.account_id}:${var.kms_alias}")
