# ---- Network ----

output "security_group_id" {
  description = "ID of the cache's security group (for reference; access is granted through allowed_security_group_ids)."
  value       = aws_security_group.this.id
}

# ---- Replication group ----

output "replication_group_id" {
  description = "ID of the replication group (for CloudWatch alarms and dashboards)."
  value       = aws_elasticache_replication_group.this.id
}

output "primary_endpoint_address" {
  description = "Host name of the primary node (reads and writes); it follows a failover."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "reader_endpoint_address" {
  description = "Host name spreading reads over the replicas (the primary when there is no replica)."
  value       = aws_elasticache_replication_group.this.reader_endpoint_address
}

output "port" {
  description = "Port of the cache."
  value       = aws_elasticache_replication_group.this.port
}

output "url" {
  description = "TLS connection URL of the primary, database 0, without credentials (rediss://host:6379/0), for Django's REDIS_URL."
  value       = "rediss://${aws_elasticache_replication_group.this.primary_endpoint_address}:${local.port}/0"
}

# ---- Users (IAM authentication) ----

output "app_user_id" {
  description = "ID (= user name) of the cache user the app authenticates as with IAM tokens (REDIS_IAM_USER)."
  value       = aws_elasticache_user.app.user_id
}

output "connect_arns" {
  description = "ARNs that the app's task role needs elasticache:Connect on: the replication group and the app's user (both are required)."
  value       = [aws_elasticache_replication_group.this.arn, aws_elasticache_user.app.arn]
}
