# The vault in a second region that receives a copy of each daily snapshot. The root hands this
# module a provider configured for that region; a KMS key serves one region only, so the copies
# get a key of their own there (AWS Backup encrypts a copy with its destination vault's key).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# ---- KMS key ----

# AWS's default key policy statement: kms:* to the account root delegates the key to IAM, so each
# role still needs an identity policy naming this key (the AWS Backup role has one). Attached by
# aws_kms_key_policy, as modules/ssm does, so that the statement can name the key's ARN.
data "aws_iam_policy_document" "key" {
  statement {
    sid       = "EnableIamPolicies"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = [aws_kms_key.this.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = var.names.kms_alias
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
}

resource "aws_kms_key_policy" "this" {
  key_id = aws_kms_key.this.key_id
  policy = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = var.names.kms_alias
  target_key_id = aws_kms_key.this.key_id
}

# ---- Vault ----

resource "aws_backup_vault" "this" {
  name          = var.names.vault
  kms_key_arn   = aws_kms_key.this.arn
  force_destroy = var.force_destroy
}

# As the primary vault's lock (modules/backup): governance without changeable_for_days,
# compliance after it.
resource "aws_backup_vault_lock_configuration" "this" {
  count = var.vault_lock.mode == "none" ? 0 : 1

  backup_vault_name   = aws_backup_vault.this.name
  min_retention_days  = var.vault_lock.min_retention_days
  max_retention_days  = var.vault_lock.max_retention_days
  changeable_for_days = var.vault_lock.mode == "compliance" ? var.vault_lock.grace_days : null
}
