# ---- Names ----

variable "names" {
  description = "AWS names of the module's resources, computed by the renderer and used literally."
  type = object({
    schedule_group        = string # aws_scheduler_schedule_group
    db_start_schedule     = string # aws_scheduler_schedule
    db_stop_schedule      = string # aws_scheduler_schedule
    alarms_quiet_schedule = string # aws_scheduler_schedule
    alarms_loud_schedule  = string # aws_scheduler_schedule
    service_wake_action   = string # aws_appautoscaling_scheduled_action
    service_sleep_action  = string # aws_appautoscaling_scheduled_action
    scheduler_role        = string # aws_iam_role
    scheduler_policy      = string # aws_iam_role_policy
  })

  validation {
    condition = alltrue([
      for n in [var.names.schedule_group, var.names.db_start_schedule, var.names.db_stop_schedule,
      var.names.alarms_quiet_schedule, var.names.alarms_loud_schedule] : can(regex("^[A-Za-z0-9._-]{1,64}$", n))
    ])
    error_message = "names.schedule_group and the schedules: 1-64 letters, digits, '.', '_' or '-'."
  }

  validation {
    condition = alltrue([
      for n in [var.names.service_wake_action, var.names.service_sleep_action] : can(regex("^[^:/|]{1,256}$", n))
    ])
    error_message = "names.service_wake_action and names.service_sleep_action: 1-256 characters, none of ':', '/' or '|'."
  }

  # scheduler_role and scheduler_policy: modules/scheduler_role validates them.
}

# ---- When ----

variable "schedule" {
  description = "The four cron expressions (infra/sleep.py), all in `timezone` (IANA): service_wake on working days at their start, service_sleep every day at their end, db_start before the wake, db_stop after the sleep."
  type = object({
    timezone      = string
    service_wake  = string
    service_sleep = string
    db_start      = string
    db_stop       = string
  })
  nullable = false

  validation {
    condition = alltrue([
      for e in [var.schedule.service_wake, var.schedule.service_sleep, var.schedule.db_start, var.schedule.db_stop] :
      can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", e))
    ])
    error_message = "schedule: each expression is a cron() of six fields (minutes hours day-of-month month day-of-week year)."
  }
}

# ---- Service ----

variable "scalable_target" {
  description = "The service's scalable target (modules/ecs output scalable_target): the scheduled actions set its minimum and maximum."
  type = object({
    service_namespace  = string
    resource_id        = string
    scalable_dimension = string
  })
  nullable = false
}

variable "min_capacity" {
  description = "Minimum number of tasks restored when the environment wakes (ecs.min_capacity)."
  type        = number

  validation {
    condition     = var.min_capacity >= 1 && floor(var.min_capacity) == var.min_capacity
    error_message = "min_capacity must be a whole number of at least 1: an awake environment runs a task."
  }
}

variable "max_capacity" {
  description = "Maximum number of tasks restored when the environment wakes (ecs.max_capacity)."
  type        = number

  validation {
    condition     = var.max_capacity >= var.min_capacity && floor(var.max_capacity) == var.max_capacity
    error_message = "max_capacity must be a whole number not below min_capacity."
  }
}

# ---- Database ----

variable "db_instance_identifier" {
  description = "Identifier of the DB instance that is stopped at night."
  type        = string
  nullable    = false
}

variable "db_instance_arn" {
  description = "ARN of that DB instance: the only resource the scheduler's role may stop and start."
  type        = string
  nullable    = false
}

# ---- Alarms ----

variable "quiet_alarm_names" {
  description = "Alarms whose actions are disabled while the environment sleeps (those the sleep itself trips, such as the load balancer's 5XX with no target) and enabled when it wakes."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.quiet_alarm_names) >= 1 && length(var.quiet_alarm_names) <= 100
    error_message = "quiet_alarm_names: 1 to 100 alarms (DisableAlarmActions takes at most 100)."
  }
}

# ---- Encryption and IAM ----

variable "kms_key_arn" {
  description = "KMS key that encrypts the schedules' target input."
  type        = string
  nullable    = false
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary attached to the scheduler's role (modules/bootstrap's role boundary)."
  type        = string
  nullable    = false
}
