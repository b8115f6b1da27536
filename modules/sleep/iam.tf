# ---- IAM ----

data "aws_iam_policy_document" "scheduler_assume" {
  statement {
    sid     = "SchedulerAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["scheduler.amazonaws.com"]
    }

    # Confused-deputy guard, as the EventBridge Scheduler User Guide shows ("Set up the execution
    # role"): this account's schedules, of this module's group only (Scheduler presents the
    # schedule group's ARN as aws:SourceArn, never a schedule's).
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
  description          = "EventBridge Scheduler: stop and start the database, silence and restore the night's alarms"
  assume_role_policy   = data.aws_iam_policy_document.scheduler_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "scheduler" {
  statement {
    sid       = "StopAndStartTheDatabase"
    actions   = ["rds:StartDBInstance", "rds:StopDBInstance"]
    resources = [var.db_instance_arn]
  }

  statement {
    sid       = "QuietAlarmsAtNight"
    actions   = ["cloudwatch:DisableAlarmActions", "cloudwatch:EnableAlarmActions"]
    resources = [for name in var.quiet_alarm_names : "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${name}"]
  }

  statement {
    sid = "EncryptedInput"
    # The schedules' target input is encrypted with the key (kms_key_arn on each schedule); Scheduler
    # decrypts it with the execution role (EventBridge Scheduler User Guide, "Encryption at rest").
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
  }
}

resource "aws_iam_role_policy" "scheduler" {
  name   = var.names.scheduler_policy
  role   = aws_iam_role.scheduler.id
  policy = data.aws_iam_policy_document.scheduler.json
}
