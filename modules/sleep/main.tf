# Outside working hours the service runs no task, the database is stopped and the alarms that the
# sleep itself would trip stay quiet; at the start of working hours all three come back. The
# cron expressions come from the renderer (infra/sleep.py), all in var.schedule.timezone.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  # Universal targets: EventBridge Scheduler calls the API itself, no function in between
  # (EventBridge Scheduler User Guide, "Using universal targets": arn:aws:scheduler:::aws-sdk:
  # service:apiAction, the input being the API's request as JSON, in the SDK's field names).
  sdk_target = "arn:${local.partition}:scheduler:::aws-sdk"

  # Every call is idempotent in effect but not in answer: stopping a stopped instance (every
  # non-working day) or starting a running one fails with InvalidDBInstanceState and changes
  # nothing. The retries are for the states that pass (an instance still "starting" after AWS
  # restarted it, "backing-up", "modifying"): at most an hour of backing-off retries, then the
  # event is dropped, and the next day's run tries again. No dead-letter queue: the expected
  # weekend failures would fill it and page people through its alarm.
  retry_attempts = 10
  event_age      = 3600

  calls = {
    db_start = {
      name       = var.names.db_start_schedule
      expression = var.schedule.db_start
      target     = "${local.sdk_target}:rds:startDBInstance"
      input      = { DbInstanceIdentifier = var.db_instance_identifier }
      why        = "Start the database before the service wakes"
    }
    db_stop = {
      name       = var.names.db_stop_schedule
      expression = var.schedule.db_stop
      target     = "${local.sdk_target}:rds:stopDBInstance"
      input      = { DbInstanceIdentifier = var.db_instance_identifier }
      why        = "Stop the database every day after the service sleeps (also after AWS restarted it)"
    }
    alarms_quiet = {
      name       = var.names.alarms_quiet_schedule
      expression = var.schedule.service_sleep
      target     = "${local.sdk_target}:cloudwatch:disableAlarmActions"
      input      = { AlarmNames = var.quiet_alarm_names }
      why        = "Silence the alarms the sleeping environment trips"
    }
    alarms_loud = {
      name       = var.names.alarms_loud_schedule
      expression = var.schedule.service_wake
      target     = "${local.sdk_target}:cloudwatch:enableAlarmActions"
      input      = { AlarmNames = var.quiet_alarm_names }
      why        = "Let those alarms notify again in working hours"
    }
  }
}

# ---- Schedules (EventBridge Scheduler) ----

resource "aws_scheduler_schedule_group" "this" {
  name = var.names.schedule_group
}

resource "aws_scheduler_schedule" "this" {
  for_each = local.calls

  name                         = each.value.name
  group_name                   = aws_scheduler_schedule_group.this.name
  description                  = each.value.why
  schedule_expression          = each.value.expression
  schedule_expression_timezone = var.schedule.timezone
  state                        = "ENABLED"
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode = "OFF" # on the minute: the database must be up when the service wakes
  }

  target {
    arn      = each.value.target
    role_arn = module.scheduler_role.arn
    input    = jsonencode(each.value.input)

    retry_policy {
      maximum_retry_attempts       = local.retry_attempts
      maximum_event_age_in_seconds = local.event_age
    }
  }
}

# ---- Service capacity (Application Auto Scaling) ----

# Scheduled actions on the service's own scalable target (modules/ecs): at night its minimum and
# maximum are 0, so autoscaling sets the desired count to 0; in the morning they are the YAML's
# ecs.min_capacity and ecs.max_capacity again and the target tracking policies take over.
resource "aws_appautoscaling_scheduled_action" "sleep" {
  name               = var.names.service_sleep_action
  service_namespace  = var.scalable_target.service_namespace
  resource_id        = var.scalable_target.resource_id
  scalable_dimension = var.scalable_target.scalable_dimension
  schedule           = var.schedule.service_sleep
  timezone           = var.schedule.timezone

  scalable_target_action {
    min_capacity = 0
    max_capacity = 0
  }
}

resource "aws_appautoscaling_scheduled_action" "wake" {
  name               = var.names.service_wake_action
  service_namespace  = var.scalable_target.service_namespace
  resource_id        = var.scalable_target.resource_id
  scalable_dimension = var.scalable_target.scalable_dimension
  schedule           = var.schedule.service_wake
  timezone           = var.schedule.timezone

  scalable_target_action {
    min_capacity = var.min_capacity
    max_capacity = var.max_capacity
  }

  # Application Auto Scaling refuses a second change to a target while one is pending
  # ("ConcurrentUpdateException: You already have a pending update to an Auto Scaling resource",
  # hashicorp/terraform#14258): the two actions are created one after the other, and after the
  # target's scaling policies (modules/ecs's scalable_target output waits for them).
  depends_on = [aws_appautoscaling_scheduled_action.sleep]
}
