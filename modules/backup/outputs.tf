# ---- Vault ----

output "vault_name" {
  description = "Name of the environment's backup vault (tools/restore_drill.py lists its recovery points)."
  value       = aws_backup_vault.this.name
}

output "vault_arn" {
  description = "ARN of the environment's backup vault."
  value       = aws_backup_vault.this.arn
}

# ---- Plan ----

output "plan_id" {
  description = "ID of the backup plan."
  value       = aws_backup_plan.this.id
}

# ---- Service role ----

output "role_arn" {
  description = "ARN of the role AWS Backup assumes to back up and restore (start-restore-job takes it)."
  value       = aws_iam_role.this.arn
}
