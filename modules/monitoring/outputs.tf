# ---- Alert topic ----

output "topic_arn" {
  description = "ARN of the encrypted alert topic. Other notifiers publish here too: the pipeline's manual-approval action (CodePipeline publishes as the pipeline's service role, which then needs sns:Publish on this topic and kms:GenerateDataKey and kms:Decrypt on the environment's key, through sns.<region>.amazonaws.com)."
  value       = aws_sns_topic.alerts.arn
}

output "cache_topic_arn" {
  description = "ARN of the unencrypted topic for ElastiCache's own events: the elasticache module's notification_topic_arn."
  value       = aws_sns_topic.cache.arn
}

# ---- Alarms ----

output "alarm_names" {
  description = "Name of each alarm, by alarm key."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "deployment_alarm_names" {
  description = "Names of the alarms that fail and roll back an ECS deployment (target 5xx rate, unhealthy targets): the ecs module's deployment_alarm_names. Read from the created alarms, so the service is updated only once they exist."
  value       = [for kind in local.deployment_alarm_kinds : aws_cloudwatch_metric_alarm.this[kind].alarm_name]
}

output "quiet_at_night_alarm_names" {
  description = "Names of the alarms that a sleeping environment trips every night whatever their gap setting (the load balancer's own 5XX with no task): modules/sleep's quiet_alarm_names."
  value       = [for kind in local.quiet_at_night_kinds : aws_cloudwatch_metric_alarm.this[kind].alarm_name]
}

# ---- Event notifications ----

output "rule_names" {
  description = "Name of each EventBridge rule, by rule key."
  value       = { for key, rule in aws_cloudwatch_event_rule.this : key => rule.name }
}

# ---- Dashboard ----

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard of the environment."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
