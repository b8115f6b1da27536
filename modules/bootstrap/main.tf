# Everything an environment needs before its root can be applied, created once per environment
# by its generated root envs/bootstrap/<env> (by hand, with local state: the state bucket does
# not exist before it): the bucket and key of the environment's Terraform state (this file), the
# CI identities GitHub Actions assumes (github_oidc.tf, ci_policies.tf), the permissions boundary
# of every role the environment root creates (boundary.tf), and, once per account, the
# service-linked roles the services need (service_linked_roles.tf).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# ---- KMS key ----

# AWS's default key policy statement ("Enable IAM policies", KMS Developer Guide, "Default key
# policy"): kms:* to the account root, so that IAM policies in this account decide who may
# administer and use the key, every KMS action (also those AWS adds later) is delegated, and the
# key can never become unmanageable. This is a KEY policy, not an IAM policy; the resource is
# the key's own ARN (what "*" means in a key policy), which is why the policy is attached by
# aws_kms_key_policy once the key exists.
data "aws_iam_policy_document" "state_key" {
  statement {
    sid       = "EnableIamPolicies"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = [aws_kms_key.state.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "Encrypts the Terraform remote state of ${var.env}."
  enable_key_rotation     = true
  deletion_window_in_days = 30

  # Losing this key makes the state unreadable. prevent_destroy cannot be set on a module call,
  # so the bucket (inside modules/s3_bucket) is guarded by force_destroy = false and its key by
  # this lifecycle rule instead.
  lifecycle {
    prevent_destroy = true
  }
}

# Replaces the default key policy (which KMS applies at creation, granting the account root
# kms:*) right after the key is created.
resource "aws_kms_key_policy" "state" {
  key_id = aws_kms_key.state.key_id
  policy = data.aws_iam_policy_document.state_key.json
}

resource "aws_kms_alias" "state" {
  name          = var.kms_alias
  target_key_id = aws_kms_key.state.key_id
}

# ---- State bucket ----

# Every env root's S3 backend names the state key (kms_key_id, its alias ARN), and Terraform's
# S3 backend writes the state, the lock file and the digest with SSE-KMS and that key ID. The
# policy refuses a put that asks for anything else: another algorithm (AES256) or another key.
# "IfExists": a put that names no encryption at all gets the bucket's default, which is this
# key too, and the parts of a multipart upload carry no encryption header of their own.
# Condition keys: s3:x-amz-server-side-encryption and s3:x-amz-server-side-encryption-aws-kms-key-id
# (S3 User Guide, "Requiring server-side encryption with AWS KMS keys"); the key-id value is
# the one the request sends, so both the key ARN and the alias ARN the backends use are allowed.
locals {
  state_bucket_arn    = "arn:${data.aws_partition.current.partition}:s3:::${var.state_bucket_name}"
  state_key_alias_arn = "arn:${data.aws_partition.current.partition}:kms:${var.region}:${data.aws_caller_identity.current.account_id}:${var.kms_alias}"
}

data "aws_iam_policy_document" "state_objects" {
  statement {
    sid       = "DenyPutsNotSseKms"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.state_bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }

  statement {
    sid       = "DenyPutsWithAnotherKey"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.state_bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [aws_kms_key.state.arn, local.state_key_alias_arn]
    }
  }
}

#trivy:ignore:AVD-AWS-0089 The state bucket is the first bucket of the environment: no log bucket exists before it; CloudTrail records its management events.
module "state_bucket" {
  source = "../s3_bucket"

  name             = var.state_bucket_name
  kms_key_arn      = aws_kms_key.state.arn
  force_destroy    = false
  versioning       = true
  policy_documents = [data.aws_iam_policy_document.state_objects.json]

  # State files are small: keep 90 days of history to roll back from, forever the current one.
  expiration_days            = null
  noncurrent_expiration_days = 90

  # No server access logging: no log bucket exists before this one; CloudTrail records
  # management events on the bucket.
  access_log_bucket = null
}
