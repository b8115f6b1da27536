# ---- Flow logs ----

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

data "aws_region" "current" {}

resource "aws_cloudwatch_log_group" "flow_log" {
  # checkov:skip=CKV_AWS_338:Retention is an environment input (network.flow_log_retention_days in the env YAML): dev keeps flow logs for a week on purpose, to save cost; prod keeps them for a year (envs/prod/env.yaml).
  name              = var.names.flow_log_group
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = {
    Name = var.names.flow_log_group
  }
}

data "aws_iam_policy_document" "flow_log_assume" {
  statement {
    sid     = "AssumeByVpcFlowLogs"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["vpc-flow-logs.amazonaws.com"]
    }

    # Confused-deputy guard: only flow logs of this account may use the role.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${data.aws_partition.current.partition}:ec2:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:vpc-flow-log/*"]
    }
  }
}

resource "aws_iam_role" "flow_log" {
  name                 = var.names.flow_log_role
  description          = "Lets VPC flow logs deliver records to their CloudWatch log group."
  assume_role_policy   = data.aws_iam_policy_document.flow_log_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

# The documented minimum of a flow log role ("IAM role for publishing flow logs to CloudWatch
# Logs", https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-iam-role.html): the service
# calls all five actions, DescribeLogGroups and CreateLogGroup included although the group exists.
# The guide grants them on "*"; here each is held to this group, except DescribeLogGroups, which
# lists groups and takes the account's log-group pattern of this region ("Logs sent to CloudWatch
# Logs", https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-infrastructure-V2-CloudWatchLogs.html).
data "aws_iam_policy_document" "flow_log" {
  statement {
    sid    = "WriteFlowLogRecords"
    effect = "Allow"
    actions = [
      "logs:CreateLogGroup",
      "logs:CreateLogStream",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
    ]
    resources = [
      aws_cloudwatch_log_group.flow_log.arn,
      "${aws_cloudwatch_log_group.flow_log.arn}:*",
    ]
  }

  statement {
    sid       = "FindFlowLogGroup"
    effect    = "Allow"
    actions   = ["logs:DescribeLogGroups"]
    resources = ["arn:${data.aws_partition.current.partition}:logs:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:log-group:*"]
  }
}

resource "aws_iam_role_policy" "flow_log" {
  name   = var.names.flow_log_policy
  role   = aws_iam_role.flow_log.id
  policy = data.aws_iam_policy_document.flow_log.json
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow_log.arn
  iam_role_arn             = aws_iam_role.flow_log.arn
  max_aggregation_interval = 60

  tags = {
    Name = var.names.flow_log
  }
}
