# ---- Network ----

output "security_group_id" {
  description = "ID of the database's security group (for reference; access is granted through allowed_security_group_ids)."
  value       = aws_security_group.this.id
}

# ---- Database instance ----

output "instance_identifier" {
  description = "Identifier of the DB instance (for CloudWatch alarms and dashboards)."
  value       = aws_db_instance.this.identifier
}

output "instance_arn" {
  description = "ARN of the DB instance (the AWS Backup plan selects it)."
  value       = aws_db_instance.this.arn
}

output "address" {
  description = "Host name of the DB instance. The parameter group sets rds.force_ssl, so every connection uses TLS; the app verifies the server against the RDS CA bundle (sslmode=verify-full)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_db_instance.this.port
}

output "db_name" {
  description = "Name of the application database."
  value       = aws_db_instance.this.db_name
}

output "username" {
  description = "Master user name (the password is in the secret at master_user_secret_arn)."
  value       = aws_db_instance.this.username
}

output "master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret, managed by RDS, holding the master user's credentials (JSON with username and password); only the migration task reads it."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

# ---- App role (IAM authentication) ----

output "app_username" {
  description = "PostgreSQL role of the app's tasks (DATABASE_URL's user), authenticated with IAM tokens."
  value       = var.app_username
}

output "resource_id" {
  description = "The instance's DbiResourceId, which IAM database authentication policies name."
  value       = aws_db_instance.this.resource_id
}

output "app_connect_arn" {
  description = "The rds-db:connect resource of the app's role: arn:PARTITION:rds-db:REGION:ACCOUNT:dbuser:DBI_RESOURCE_ID/APP_USERNAME, for the app's task role."
  value       = local.app_connect_arn
}
