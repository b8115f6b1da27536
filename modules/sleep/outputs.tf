# ---- Schedules ----

output "schedule_group_name" {
  description = "Name of the schedule group holding the database and alarm schedules."
  value       = aws_scheduler_schedule_group.this.name
}

output "schedule_names" {
  description = "Names of the schedules by purpose: db_start, db_stop, alarms_quiet, alarms_loud."
  value       = { for key, schedule in aws_scheduler_schedule.this : key => schedule.name }
}

# ---- Service capacity ----

output "scheduled_action_names" {
  description = "Names of the service's scheduled actions: wake and sleep."
  value = {
    wake  = aws_appautoscaling_scheduled_action.wake.name
    sleep = aws_appautoscaling_scheduled_action.sleep.name
  }
}

# ---- IAM ----

output "scheduler_role_arn" {
  description = "ARN of the role the schedules run with."
  value       = module.scheduler_role.arn
}
