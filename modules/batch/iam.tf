# ---- IAM ----

locals {
  cluster_name = element(split("/", var.cluster_arn), 1)
}

module "scheduler_role" {
  source = "../scheduler_role"

  role_name                = var.names.scheduler_role
  policy_name              = var.names.scheduler_policy
  schedule_group_name      = var.names.schedule_group
  description              = "EventBridge Scheduler: run the batch job tasks, report failures to the dead-letter queue"
  policy_json              = data.aws_iam_policy_document.scheduler.json
  permissions_boundary_arn = var.permissions_boundary_arn
}

# The role and its policy were this module's own before modules/scheduler_role held them.
moved {
  from = aws_iam_role.scheduler
  to   = module.scheduler_role.aws_iam_role.this
}

moved {
  from = aws_iam_role_policy.scheduler
  to   = module.scheduler_role.aws_iam_role_policy.this
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
