# ---- Service role ----

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "AwsBackup"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["backup.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.names.role
  description          = "Lets AWS Backup back up and restore the database of this environment"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn
}

# The AWS managed policies AWS Backup documents for its service role ("Default service role for
# AWS Backup"): the backup and restore actions of every supported service, kept in step with it
# by AWS. The boundary still caps the role: no IAM but passing this environment's own roles.
resource "aws_iam_role_policy_attachment" "this" {
  for_each = toset(["AWSBackupServiceRolePolicyForBackup", "AWSBackupServiceRolePolicyForRestores"])

  role       = aws_iam_role.this.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/${each.key}"
}

# The database's key, and the copy region's: "Your IAM role must have access to the KMS key being
# used to back up and restore" ("Encryption for backups in AWS Backup"). The keys' policies
# delegate to IAM (modules/ssm), so this identity policy is what grants it. Grants only for AWS
# resources: RDS and AWS Backup create them to copy and restore encrypted snapshots.
data "aws_iam_policy_document" "keys" {
  statement {
    sid    = "UseTheEnvironmentKeys"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = local.key_arns
  }

  statement {
    sid       = "GrantsForAwsResources"
    effect    = "Allow"
    actions   = ["kms:CreateGrant"]
    resources = local.key_arns

    condition {
      test     = "Bool"
      variable = "kms:GrantIsForAWSResource"
      values   = ["true"]
    }
  }
}

locals {
  key_arns = compact([var.kms_key_arn, try(var.copy.kms_key_arn, null)])
}

resource "aws_iam_role_policy" "keys" {
  name   = var.names.policy
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.keys.json
}
