"""Security and behaviour of modules/s3_bucket (the shared secure bucket), read from its HCL."""

from __future__ import annotations

import re

from tfhelpers import MODULES, blocks, data_sources, module_fixture, outputs_of, resources, variables_of

LEGACY_INLINE_ARGUMENTS = {
    "acl",
    "versioning",
    "lifecycle_rule",
    "server_side_encryption_configuration",
    "logging",
    "policy",
    "cors_rule",
    "website",
    "replication_configuration",
    "object_lock_configuration",
}


module = module_fixture("s3_bucket")


def bucket_policy(module) -> dict:
    return data_sources(module, "aws_iam_policy_document")["this"]


# ---- Interface ----


def test_inputs_and_outputs_are_the_agreed_ones(module):
    assert set(variables_of(module)) == {
        "name",
        "kms_key_arn",
        "force_destroy",
        "versioning",
        "expiration_days",
        "noncurrent_expiration_days",
        "policy_documents",
        "access_log_bucket",
    }
    assert set(outputs_of(module)) == {"id", "arn", "bucket_regional_domain_name"}
    for name, body in {**variables_of(module), **outputs_of(module)}.items():
        assert body.get("description"), name


def test_safe_defaults(module):
    declared = variables_of(module)
    assert declared["force_destroy"]["default"] is False
    assert declared["versioning"]["default"] is True
    assert declared["noncurrent_expiration_days"]["default"] == 90
    assert declared["policy_documents"]["default"] == []


# ---- Bucket ----


def test_bucket_uses_no_legacy_inline_configuration(module):
    bucket = resources(module, "aws_s3_bucket")["this"]
    assert bucket["bucket"] == "${var.name}"
    assert not LEGACY_INLINE_ARGUMENTS & set(bucket)


def test_public_access_is_blocked_in_all_four_ways(module):
    block = resources(module, "aws_s3_bucket_public_access_block")["this"]
    assert block["bucket"] == "${aws_s3_bucket.this.id}"
    for setting in (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
    ):
        assert block[setting] is True, setting


def test_acls_are_disabled(module):
    ownership = resources(module, "aws_s3_bucket_ownership_controls")["this"]
    (rule,) = blocks(ownership, "rule")
    assert rule["object_ownership"] == "BucketOwnerEnforced"
    assert resources(module, "aws_s3_bucket_acl") == {}


# ---- Encryption ----


def test_default_encryption_is_kms_with_bucket_key_when_a_key_is_given(module):
    encryption = resources(module, "aws_s3_bucket_server_side_encryption_configuration")["this"]
    (rule,) = blocks(encryption, "rule")
    (default,) = blocks(rule, "apply_server_side_encryption_by_default")
    assert default["sse_algorithm"] == '${var.kms_key_arn == null ? "AES256" : "aws:kms"}'
    assert default["kms_master_key_id"] == "${var.kms_key_arn}"
    assert rule["bucket_key_enabled"] == "${var.kms_key_arn != null}"


def test_bucket_policy_denies_plain_http(module):
    by_sid = {s["sid"]: s for s in blocks(bucket_policy(module), "statement")}
    deny = by_sid["DenyInsecureTransport"]
    assert deny["effect"] == "Deny"
    assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]
    assert deny["actions"] == ["s3:*"]
    assert set(deny["resources"]) == {"${aws_s3_bucket.this.arn}", "${aws_s3_bucket.this.arn}/*"}
    assert deny["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]


def test_bucket_policy_grants_nothing_itself_and_is_attached(module):
    policy = bucket_policy(module)
    # The only "*" actions are in Deny statements; grants come from policy_documents.
    for statement in blocks(policy, "statement"):
        assert statement["effect"] == "Deny"
    assert policy["source_policy_documents"] == "${var.policy_documents}"
    attached = resources(module, "aws_s3_bucket_policy")["this"]
    assert attached["policy"] == "${data.aws_iam_policy_document.this.json}"
    assert "${aws_s3_bucket_public_access_block.this}" in attached["depends_on"]


# ---- Versioning and lifecycle ----


def test_versioning_follows_the_input(module):
    versioning = resources(module, "aws_s3_bucket_versioning")["this"]
    (configuration,) = blocks(versioning, "versioning_configuration")
    assert configuration["status"] == '${var.versioning ? "Enabled" : "Suspended"}'


def test_lifecycle_aborts_incomplete_multipart_uploads_bucket_wide(module):
    lifecycle = resources(module, "aws_s3_bucket_lifecycle_configuration")["this"]
    aborting = [
        rule for rule in blocks(lifecycle, "rule") if blocks(rule, "abort_incomplete_multipart_upload")
    ]
    assert aborting, "no rule aborts incomplete multipart uploads"
    rule = aborting[0]
    assert rule["status"] == "Enabled"
    assert rule["filter"] == [{}]
    (abort,) = blocks(rule, "abort_incomplete_multipart_upload")
    assert 1 <= abort["days_after_initiation"] <= 7


def test_lifecycle_expires_noncurrent_versions(module):
    lifecycle = resources(module, "aws_s3_bucket_lifecycle_configuration")["this"]
    days = [
        expiry["noncurrent_days"]
        for rule in blocks(lifecycle, "rule")
        for expiry in blocks(rule, "noncurrent_version_expiration")
    ]
    assert days == ["${var.noncurrent_expiration_days}"]


# ---- Access logging ----


def test_access_logging_is_optional_and_targets_the_given_bucket(module):
    logging = resources(module, "aws_s3_bucket_logging")["this"]
    assert logging["count"] == "${var.access_log_bucket == null ? 0 : 1}"
    assert logging["target_bucket"] == "${var.access_log_bucket}"


def test_every_checkov_skip_has_a_reason():
    for tf in sorted(MODULES.glob("s3_bucket/*.tf")):
        for line in tf.read_text(encoding="utf-8").splitlines():
            if "checkov:skip=" in line:
                assert re.search(r"checkov:skip=CKV2?_AWS_\d+:\s*\S.{20,}", line), line
