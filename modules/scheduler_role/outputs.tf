# ---- Role ----

output "arn" {
  description = "ARN of the role, for the schedules' target.role_arn."
  value       = aws_iam_role.this.arn
}
