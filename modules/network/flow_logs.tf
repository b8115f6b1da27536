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

# The log group is created above, so the role needs neither logs:CreateLogGroup nor
# logs:DescribeLogGroups (which would require Resource "*"): only writing to this one group.
data "aws_iam_policy_document" "flow_log" {
  statement {
    sid    = "WriteFlowLogRecords"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:DescribeLogStreams",
      "logs:PutLogEvents",
    ]
    resources = [
      aws_cloudwatch_log_group.flow_log.arn,
      "${aws_cloudwatch_log_group.flow_log.arn}:*",
    ]
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
