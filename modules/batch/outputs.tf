# ---- Logs ----

output "log_group_name" {
  description = "Name of the log group of the batch jobs and the migration."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_group_arn" {
  description = "ARN of that log group (without ':*'); give it to the ecs module's additional_log_group_arns so the shared execution role may write to it."
  value       = aws_cloudwatch_log_group.this.arn
}

# ---- Task definitions ----

output "migrate_task_family" {
  description = "Family of the migration task; the pipeline registers a revision with the new image and runs it before each deploy."
  value       = aws_ecs_task_definition.migrate.family
}

output "migrate_task_definition_arn" {
  description = "ARN (with revision) of the migration family's latest ACTIVE revision (track_latest)."
  value       = aws_ecs_task_definition.migrate.arn
}

output "task_families" {
  description = "Task definition family of each job, by job name; the pipeline registers revisions with the new image in them."
  value       = { for k, td in aws_ecs_task_definition.job : k => td.family }
}

# ---- Schedules ----

output "schedule_arns" {
  description = "ARN of each job's schedule, by job name."
  value       = { for k, s in aws_scheduler_schedule.job : k => s.arn }
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue of failed job invocations (for an alarm on its depth)."
  value       = aws_sqs_queue.dead_letter.arn
}

# ---- IAM ----

output "scheduler_role_arn" {
  description = "ARN of the role EventBridge Scheduler assumes to run the jobs."
  value       = module.scheduler_role.arn
}
