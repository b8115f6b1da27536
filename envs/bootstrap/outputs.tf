output "state_bucket_name" {
  description = "Name of the remote-state bucket: the `bucket` of every env root's S3 backend."
  value       = module.state_bucket.id
}

output "state_bucket_arn" {
  description = "ARN of the remote-state bucket, for IAM policies of whoever runs Terraform."
  value       = module.state_bucket.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the state (env root backends name it by its alias ARN in kms_key_id); a resource of the deployers' IAM policies."
  value       = aws_kms_key.state.arn
}

# ---- GitHub Actions (github_oidc.tf) ----

output "github_oidc_provider_arn" {
  description = "ARN of the IAM OIDC provider for GitHub Actions (created here, or the one given)."
  value       = local.github_oidc_provider_arn
}

output "github_plan_role_arn" {
  description = "Role the pull-request plan jobs assume (read-only); the workflows derive the same ARN from the YAML."
  value       = aws_iam_role.github_plan.arn
}

output "github_apply_role_arn" {
  description = "Role the apply jobs assume, from the environments' branches only."
  value       = aws_iam_role.github_apply.arn
}

output "github_apply_subjects" {
  description = "The exact OIDC subjects the apply role trusts: what the repository's customised subject template must produce."
  value       = local.github_apply_subjects
}
