# Creates the bucket that stores the Terraform state of every environment root, and the KMS key
# that encrypts it. Applied once per account, by hand, with local state (see versions.tf).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# ---- KMS key ----

# The standard "Enable IAM policies" statement: the account (its root) holds the key, so that
# IAM policies in this account decide who may administer and use it, and the key can never
# become unmanageable. This is a KEY policy, not an IAM policy. The actions are listed rather
# than "kms:*", so IAM policies can grant no more than administering the key and encrypting and
# decrypting with it; the resource is the key's own ARN (what "*" would mean in a key policy),
# which is why the policy is attached by aws_kms_key_policy once the key exists.
data "aws_iam_policy_document" "state_key" {
  statement {
    sid    = "EnableIamPolicies"
    effect = "Allow"
    actions = [
      # Administration
      "kms:CancelKeyDeletion",
      "kms:CreateAlias",
      "kms:CreateGrant",
      "kms:DeleteAlias",
      "kms:DescribeKey",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:EnableKey",
      "kms:EnableKeyRotation",
      "kms:GetKeyPolicy",
      "kms:GetKeyRotationStatus",
      "kms:ListGrants",
      "kms:ListKeyPolicies",
      "kms:ListKeyRotations",
      "kms:ListResourceTags",
      "kms:PutKeyPolicy",
      "kms:RetireGrant",
      "kms:RevokeGrant",
      "kms:RotateKeyOnDemand",
      "kms:ScheduleKeyDeletion",
      "kms:TagResource",
      "kms:UntagResource",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
      # Use (S3 SSE-KMS on behalf of whoever reads or writes state)
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = [aws_kms_key.state.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "state" {
  description             = "Encrypts the Terraform remote state of every environment."
  enable_key_rotation     = true
  deletion_window_in_days = 30

  # Losing this key makes every state file unreadable. prevent_destroy cannot be set on a module
  # call, so the bucket (inside modules/s3_bucket) is guarded by force_destroy = false and its
  # key by this lifecycle rule instead.
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

module "state_bucket" {
  source = "../../modules/s3_bucket"

  name          = var.state_bucket_name
  kms_key_arn   = aws_kms_key.state.arn
  force_destroy = false
  versioning    = true

  # State files are small: keep 90 days of history to roll back from, forever the current one.
  expiration_days            = null
  noncurrent_expiration_days = 90

  # No server access logging: no log bucket exists before this one; CloudTrail records
  # management events on the bucket.
  access_log_bucket = null
}
