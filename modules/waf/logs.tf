# ---- Logs ----

locals {
  log_group_arn = "arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:${var.names.log_group}"
}

# WAF delivers only to a log group whose name starts with "aws-waf-logs-" (AWS WAF Developer
# Guide, "Sending web ACL traffic logs to an Amazon CloudWatch Logs log group").
resource "aws_cloudwatch_log_group" "this" {
  name              = var.names.log_group
  kms_key_id        = var.kms_key_arn
  retention_in_days = var.log_retention_days
}

# WAF writes through CloudWatch Logs' log delivery service, which needs a resource policy that
# admits it to the log group. Without one, enabling logging makes AWS add this log group to an
# account-wide policy (AWSWAF-LOGS), which has a size limit of 5,120 characters and fails once
# many log groups are in it (CloudWatch Logs User Guide, "Logs sent to CloudWatch Logs": log
# group resource policy). This one names only this log group, from this account's deliveries.
data "aws_iam_policy_document" "delivery" {
  statement {
    sid       = "WafLogDelivery"
    effect    = "Allow"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${local.log_group_arn}:log-stream:*"]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:*"]
    }
  }
}

resource "aws_cloudwatch_log_resource_policy" "delivery" {
  policy_name     = var.names.log_group
  policy_document = data.aws_iam_policy_document.delivery.json
}

resource "aws_wafv2_web_acl_logging_configuration" "this" {
  resource_arn            = aws_wafv2_web_acl.this.arn
  log_destination_configs = [aws_cloudwatch_log_group.this.arn]

  # Credentials and session cookies stay out of the log: WAF replaces these headers' values
  # with REDACTED before delivery.
  redacted_fields {
    single_header {
      name = "authorization"
    }
  }
  redacted_fields {
    single_header {
      name = "cookie"
    }
  }

  depends_on = [aws_cloudwatch_log_resource_policy.delivery]
}
