# ---- KMS key ----

output "kms_key_arn" {
  description = "ARN of the environment's customer-managed KMS key (use it for IAM resources and kms_key_id arguments). Known once the key's policy is attached, so no service encrypts with it before its statement exists."
  value       = aws_kms_key.this.arn
  depends_on  = [aws_kms_key_policy.this]
}

output "kms_key_id" {
  description = "Key ID of the environment's customer-managed KMS key (known once its policy is attached)."
  value       = aws_kms_key.this.key_id
  depends_on  = [aws_kms_key_policy.this]
}

output "kms_alias_name" {
  description = "Alias name of the KMS key (\"alias/...\")."
  value       = aws_kms_alias.this.name
}

# ---- Secure parameters ----

output "secure_parameter_arns" {
  description = "ARN of each generated SecureString parameter, by the key of var.secure_parameters (for ECS secrets.valueFrom and ssm:GetParameters)."
  value       = { for key, parameter in aws_ssm_parameter.secure : key => parameter.arn }
}
