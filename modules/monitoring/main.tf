data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  # Literal names in, ARNs built here: no dependency on the modules that own these resources,
  # so the ecs module may depend on this one (alarm-based rollback) without a cycle.
  cluster_arn  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:cluster/${var.cluster_name}"
  service_arn  = "arn:${local.partition}:ecs:${local.region}:${local.account_id}:service/${var.cluster_name}/${var.service_name}"
  pipeline_arn = "arn:${local.partition}:codepipeline:${local.region}:${local.account_id}:${var.pipeline_name}"
  # RDS instance ARNs end in db:<identifier> (RDS user guide, "Amazon Resource Names in Amazon RDS").
  db_instance_arn = "arn:${local.partition}:rds:${local.region}:${local.account_id}:db:${var.db_instance_identifier}"
  task_definition_prefixes = [
    for family in var.task_families :
    "arn:${local.partition}:ecs:${local.region}:${local.account_id}:task-definition/${family}:"
  ]
}

# ---- Alert topic ----

resource "aws_sns_topic" "alerts" {
  name         = var.names.topic
  display_name = var.alert_label
  # The environment's key: its policy (modules/ssm) lets CloudWatch alarms and EventBridge rules
  # use it for this topic only, as SNS requires of AWS services that publish to an encrypted topic.
  kms_master_key_id = var.kms_key_arn
}

# Admits exactly the two publishing services, each only for this account's alarms and rules
# (aws:SourceAccount and aws:SourceArn guard against the confused deputy). Principals of the
# account itself, such as the pipeline's service role for its manual-approval notice, publish
# through their own IAM policy and need no statement here.
data "aws_iam_policy_document" "alerts" {
  statement {
    sid       = "CloudWatchAlarmsOfThisEnvironment"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn]
    }
  }

  statement {
    sid       = "EventBridgeRulesOfThisEnvironment"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]

    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [for rule in aws_cloudwatch_event_rule.this : rule.arn]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.alerts.json
}

# ---- Cache events topic ----

# ElastiCache publishes the events of a node-based replication group (failover, node
# replacement, maintenance) only to an SNS topic, and "the Amazon SNS topic you are publishing
# to cannot be encrypted" (ElastiCache user guide, Event Notifications and Amazon SNS): an
# encrypted topic shows as inactive. Its own EventBridge events are those of serverless caches.
# So these events get a topic of their own, unencrypted, carrying only event names and cluster
# ids. Nothing else publishes to it.
#trivy:ignore:AVD-AWS-0095 ElastiCache cannot publish to an encrypted topic (it shows as inactive); the messages hold only event names and cache cluster ids.
resource "aws_sns_topic" "cache" {
  # checkov:skip=CKV_AWS_26: ElastiCache cannot publish to an encrypted topic (it shows as inactive); the messages hold only event names and cache cluster ids.
  name         = var.names.cache_topic
  display_name = var.alert_label
}

# The default policy of a new topic admits its account through aws:SourceAccount, which
# ElastiCache does not support: its publish is refused and it marks the topic inactive, so no
# event arrives after the first. The topic's policy must use aws:SourceOwner instead, as in the
# statement the ElastiCache user guide gives ("Managing ElastiCache Amazon SNS notifications",
# SNS topic access policy requirement): any principal, publishing on behalf of this account.
data "aws_iam_policy_document" "cache" {
  statement {
    sid       = "AllowElastiCachePublish"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.cache.arn]

    principals {
      type        = "AWS"
      identifiers = ["*"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceOwner"
      values   = [local.account_id]
    }
  }
}

resource "aws_sns_topic_policy" "cache" {
  arn    = aws_sns_topic.cache.arn
  policy = data.aws_iam_policy_document.cache.json
}

# ---- Subscriptions ----

locals {
  # Every address receives both topics; each subscription is confirmed once from its mail.
  topic_arns = { alerts = aws_sns_topic.alerts.arn, cache = aws_sns_topic.cache.arn }
  email_subscriptions = {
    for pair in setproduct(keys(local.topic_arns), var.emails) : "${pair[0]}:${pair[1]}" => {
      topic = pair[0]
      email = pair[1]
    }
  }
}

resource "aws_sns_topic_subscription" "email" {
  for_each = local.email_subscriptions

  topic_arn = local.topic_arns[each.value.topic]
  protocol  = "email"
  endpoint  = each.value.email
}
