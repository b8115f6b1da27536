# ---- Cluster ----

output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "cluster_arn" {
  description = "ARN of the ECS cluster (target of the batch schedules and the migration task)."
  value       = aws_ecs_cluster.this.arn
}

# ---- Container registry ----

output "app_repository_url" {
  description = "URL of the app image repository (no tag)."
  value       = aws_ecr_repository.this["app"].repository_url
}

output "proxy_repository_url" {
  description = "URL of the proxy image repository (no tag)."
  value       = aws_ecr_repository.this["proxy"].repository_url
}

output "app_repository_arn" {
  description = "ARN of the app image repository (for the pipeline's push permissions)."
  value       = aws_ecr_repository.this["app"].arn
}

output "proxy_repository_arn" {
  description = "ARN of the proxy image repository (for the pipeline's push permissions)."
  value       = aws_ecr_repository.this["proxy"].arn
}

# ---- Logs ----

output "app_log_group_name" {
  description = "Name of the app container's log group."
  value       = aws_cloudwatch_log_group.this["app"].name
}

output "proxy_log_group_name" {
  description = "Name of the nginx container's log group (its JSON access log)."
  value       = aws_cloudwatch_log_group.this["proxy"].name
}

# ---- Task definition ----

output "task_family" {
  description = "Family of the service's task definition; the deploy program registers revisions in it from its latest one."
  value       = aws_ecs_task_definition.this.family
}

output "task_definition_arn" {
  description = "ARN (with revision) of the family's latest ACTIVE task definition, Terraform's or the pipeline's (track_latest)."
  value       = aws_ecs_task_definition.this.arn
}

output "app_container" {
  description = "The app container definition shared by every task that runs the app image (image, non-root user, read-only root, /tmp scratch mount, environment, secrets), without health check or logging; the batch module adds its command and log configuration."
  value       = local.app_container_base
}

output "cpu_architecture" {
  description = "CPU architecture of the task definition (X86_64 or ARM64): the batch and migration tasks run on it and the pipeline builds the images for it, so that every task can run the one image."
  value       = var.cpu_architecture
}

# ---- Deployed image ----

output "image_tag_parameter_name" {
  description = "Name of the SSM parameter holding the tag of the images deployed last (the pipeline writes it, Terraform reads it)."
  value       = aws_ssm_parameter.image_tag.name
}

output "image_tag_parameter_arn" {
  description = "ARN of that parameter, for the deploy role's ssm:GetParameter and ssm:PutParameter."
  value       = aws_ssm_parameter.image_tag.arn
}

# ---- Service ----

output "service_name" {
  description = "Name of the ECS service."
  value       = aws_ecs_service.this.name
}

output "scalable_target" {
  description = "The service's Application Auto Scaling target, for scheduled actions (modules/sleep); available once its scaling policies exist, as the target takes one change at a time."
  value = {
    service_namespace  = aws_appautoscaling_target.this.service_namespace
    resource_id        = aws_appautoscaling_target.this.resource_id
    scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  }
  depends_on = [aws_appautoscaling_policy.cpu, aws_appautoscaling_policy.requests]
}

# ---- IAM ----

output "execution_role_arn" {
  description = "ARN of the task execution role (image pull, logs, secrets)."
  value       = aws_iam_role.execution.arn
}

output "task_role_arn" {
  description = "ARN of the task role of the service and the scheduled jobs (ECS Exec, IAM authentication to the database and the cache)."
  value       = aws_iam_role.task.arn
}

output "migrate_task_role_arn" {
  description = "ARN of the migration task's own task role, the only one that reads the database master credentials."
  value       = aws_iam_role.migrate.arn
}

# ---- Security group ----

output "security_group_id" {
  description = "Security group of the tasks (service, batch jobs and migration); the database and cache allow it."
  value       = aws_security_group.this.id
}
