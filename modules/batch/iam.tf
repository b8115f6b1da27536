# ---- IAM ----

locals {
  cluster_name = element(split("/", var.cluster_arn), 1)
}

data "aws_iam_policy_document" "scheduler_assume" {
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
      values   = ["arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule-group/${var.names.schedule_group}"]
    }
  }
}

resource "aws_iam_role" "scheduler" {
  name                 = var.names.scheduler_role
  description          = "EventBridge Scheduler: run the batch job tasks, report failures to the dead-letter queue"
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "scheduler" {
  dynamic "statement" {
    for_each = length(local.jobs) > 0 ? [1] : []
    content {
      sid     = "RunJobTasks"
      actions = ["ecs:RunTask"]
      # Every revision of the job families, and the family ARN the schedules name.
      resources = flatten([
        for td in aws_ecs_task_definition.job : [td.arn_without_revision, "${td.arn_without_revision}:*"]
      ])

      condition {
        test     = "ArnEquals"
        variable = "ecs:cluster"
        values   = [var.cluster_arn]
      }
    }
  }

  statement {
    sid = "TagJobTasks"
    # The schedules ask RunTask for managed and propagated tags, which needs TagResource on the
    # new task, and only at RunTask.
    actions   = ["ecs:TagResource"]
    resources = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:task/${local.cluster_name}/*"]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid       = "PassTaskRoles"
    actions   = ["iam:PassRole"]
    resources = [var.execution_role_arn, var.task_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }

  statement {
    sid = "EncryptedQueueAndInput"
    # The dead-letter queue and the schedules' target input are encrypted with the key.
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = var.names.scheduler_policy
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
