# ---- KMS key ----

output "kms_key_arn" {
  description = "ARN of the environment's customer-managed KMS key (use it for IAM resources and kms_key_id arguments)."
  value       = aws_kms_key.this.arn
}

output "kms_key_id" {
  description = "Key ID of the environment's customer-managed KMS key."
  value       = aws_kms_key.this.key_id
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

# ---- String parameters ----

output "string_parameter_arns" {
  description = "ARN of each String parameter, by the key of var.string_parameters."
  value       = { for key, parameter in aws_ssm_parameter.string : key => parameter.arn }
}
