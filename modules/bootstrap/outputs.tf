# ---- State ----

output "state_bucket_name" {
  description = "Name of the environment's remote-state bucket: the `bucket` of its root's S3 backend."
  value       = module.state_bucket.id
}

output "state_bucket_arn" {
  description = "ARN of the remote-state bucket."
  value       = module.state_bucket.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the state (the root's backend names it by its alias ARN in kms_key_id)."
  value       = aws_kms_key.state.arn
}

# ---- GitHub Actions ----

output "github_oidc_provider_arn" {
  description = "ARN of the account's IAM OIDC provider for GitHub Actions (created here, or the one given)."
  value       = local.github_oidc_provider_arn
}

output "github_plan_role_arn" {
  description = "Role the plan jobs of this environment assume, for pull requests and its branch (read-only)."
  value       = aws_iam_role.github_plan.arn
}

output "github_apply_role_arn" {
  description = "Role the apply job of this environment assumes."
  value       = aws_iam_role.github_apply.arn
}

output "github_apply_subject" {
  description = "The exact OIDC subject the apply role trusts: what the repository's customised subject template must produce."
  value       = local.github_apply_subject
}

# ---- Boundary ----

output "role_boundary_arn" {
  description = "The permissions boundary every role of the environment root must carry."
  value       = aws_iam_policy.role_boundary.arn
}

# ---- Service-linked roles ----

output "existing_service_linked_roles" {
  description = "Per service principal, the ARN of its service-linked role when the account already has it (the generated root imports these)."
  value = {
    for service, found in data.aws_iam_roles.service_linked : service => one(found.arns) if length(found.arns) > 0
  }
}
