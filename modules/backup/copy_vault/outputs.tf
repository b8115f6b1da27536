# ---- KMS key ----

output "kms_key_arn" {
  description = "ARN of the copy region's key (the AWS Backup role is allowed to use it)."
  value       = aws_kms_key.this.arn
  depends_on  = [aws_kms_key_policy.this]
}

# ---- Vault ----

output "vault_arn" {
  description = "ARN of the copy vault (the destination of the plan's copy_action)."
  value       = aws_backup_vault.this.arn
}
