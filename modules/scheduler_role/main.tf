# The execution role of one EventBridge Scheduler schedule group: whom it trusts is the same for
# every group (modules/batch, modules/sleep), what it may do is the caller's policy.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region
}

# ---- Trust ----

data "aws_iam_policy_document" "assume" {
  statement {
    sid     = "SchedulerAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    # Confused-deputy guard: only schedules of this account's group may assume the role.
    # Scheduler presents the schedule GROUP's ARN as aws:SourceArn; its guide ("Set up the
    # execution role", confused deputy prevention) says to use the group ARN and not to scope
    # the condition to a schedule or a schedule name prefix, which would never match.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule-group/${var.schedule_group_name}"]
    }
  }
}

# ---- Role ----

resource "aws_iam_role" "this" {
  name                 = var.role_name
  description          = var.description
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  permissions_boundary = var.permissions_boundary_arn
}

resource "aws_iam_role_policy" "this" {
  name   = var.policy_name
  role   = aws_iam_role.this.id
  policy = var.policy_json
}
