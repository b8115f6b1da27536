# ---- IAM ----

module "scheduler_role" {
  source = "../scheduler_role"

  role_name                = var.names.scheduler_role
  policy_name              = var.names.scheduler_policy
  schedule_group_name      = var.names.schedule_group
  description              = "EventBridge Scheduler: stop and start the database, silence and restore the night's alarms"
  policy_json              = data.aws_iam_policy_document.scheduler.json
  permissions_boundary_arn = var.permissions_boundary_arn
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
