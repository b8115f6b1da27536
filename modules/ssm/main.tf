data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  log_group_arn_patterns = [
    for prefix in concat([var.log_group_prefix], var.additional_log_group_prefixes) :
    "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${prefix}*"
  ]

  alert_topics = var.alert_topic == null ? [] : [{
    arn        = "arn:${local.partition}:sns:${local.region}:${local.account_id}:${var.alert_topic.name}"
    alarm_arns = [for name in var.alert_topic.alarm_names : "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${name}"]
  }]
}

# ---- KMS key ----

data "aws_iam_policy_document" "kms_key" {
  # A key policy is a resource policy, not an IAM identity policy: without a statement for the
  # account root, no IAM principal of the account could use or manage the key at all. This is
  # AWS's default key policy statement ("Allows access to the AWS account and enables IAM
  # policies", KMS Developer Guide, "Default key policy"): kms:* to the account root delegates
  # every KMS action, present and future, to IAM, so each role still needs its own identity
  # policy naming this key, and no new KMS action is ever left undelegated.
  statement {
    sid       = "EnableIamPolicies"
    effect    = "Allow"
    actions   = ["kms:*"]
    resources = [aws_kms_key.this.arn]

    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  # CloudWatch Logs encrypts log groups as its own service principal, not as
  # the caller, so it needs a key-policy grant. The encryption-context
  # condition limits it to this environment's log groups. These are the
  # explicit actions behind AWS's documented kms:Encrypt*, kms:Decrypt*,
  # kms:ReEncrypt*, kms:GenerateDataKey* and kms:Describe* for this key.
  statement {
    sid    = "CloudWatchLogsForThisEnvironment"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey",
      "kms:GenerateDataKeyPair",
      "kms:GenerateDataKeyPairWithoutPlaintext",
      "kms:GenerateDataKeyWithoutPlaintext",
      "kms:ReEncryptFrom",
      "kms:ReEncryptTo",
    ]
    resources = [aws_kms_key.this.arn]

    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.${data.aws_partition.current.dns_suffix}"]
    }

    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = local.log_group_arn_patterns
    }
  }

  # An AWS service that publishes to an encrypted SNS topic must be allowed kms:GenerateDataKey
  # and kms:Decrypt on the topic's key ("Enable compatibility between event sources from AWS
  # services and encrypted topics", Amazon SNS Developer Guide, key management). SNS calls KMS
  # with the encryption context aws:sns:topicArn, which limits both statements to the alert
  # topic. CloudWatch alarms are further limited to this environment's alarms by aws:SourceArn
  # and aws:SourceAccount.
  dynamic "statement" {
    for_each = local.alert_topics

    content {
      sid       = "CloudWatchAlarmsPublishToTheAlertTopic"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [aws_kms_key.this.arn]

      principals {
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:aws:sns:topicArn"
        values   = [statement.value.arn]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = statement.value.alarm_arns
      }
    }
  }

  # The same for EventBridge rules, without aws:SourceArn and aws:SourceAccount: the SNS guide
  # states that adding them to a KMS key policy is not supported for EventBridge-to-encrypted
  # topics (the request carries neither, so every notification would be dropped). The topic's
  # own policy (modules/monitoring) admits only this environment's rules.
  dynamic "statement" {
    for_each = local.alert_topics

    content {
      sid       = "EventBridgeRulesPublishToTheAlertTopic"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [aws_kms_key.this.arn]

      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "kms:EncryptionContext:aws:sns:topicArn"
        values   = [statement.value.arn]
      }
    }
  }
}

# KMS gives a new key its default policy (the account-root statement above); the module's
# own policy replaces it right after, attached by aws_kms_key_policy so that each statement can
# name the key's ARN as its resource (what "*" means in a key policy; scanners read "*" as every
# resource). The outputs wait for it, so nothing encrypts with the key before the services'
# statements exist.
resource "aws_kms_key" "this" {
  description             = var.names.kms_key
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days

  tags = {
    Name = var.names.kms_key
  }
}

resource "aws_kms_key_policy" "this" {
  key_id = aws_kms_key.this.key_id
  policy = data.aws_iam_policy_document.kms_key.json
}

resource "aws_kms_alias" "this" {
  name          = var.names.kms_alias
  target_key_id = aws_kms_key.this.key_id
}

# ---- Secure parameters ----

# The secret never reaches the state or a plan file:
# - an ephemeral resource is opened anew on every plan and apply and is never
#   persisted, so the generated password only lives in memory;
# - value_wo is a write-only argument: Terraform sends it to AWS but stores
#   null for it in the state and shows no diff for it. Terraform only sends it
#   when value_wo_version changes (on create, or when secret_version is
#   bumped), so later plans leave the stored secret untouched.
# To rotate every generated secret, increase var.secret_version and apply.
ephemeral "aws_secretsmanager_random_password" "this" {
  for_each = var.secure_parameters

  password_length     = each.value.length
  exclude_punctuation = true
  include_space       = false
}

resource "aws_ssm_parameter" "secure" {
  for_each = var.secure_parameters

  name             = each.value.name
  description      = "Generated secret; rotate by increasing secret_version."
  type             = "SecureString"
  tier             = "Standard"
  key_id           = aws_kms_key.this.arn
  value_wo         = ephemeral.aws_secretsmanager_random_password.this[each.key].random_password
  value_wo_version = var.secret_version
}

