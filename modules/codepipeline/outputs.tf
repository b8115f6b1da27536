# ---- Source connection ----

output "connection_arn" {
  description = "ARN of the GitHub connection."
  value       = aws_codestarconnections_connection.this.arn
}

output "connection_status" {
  description = "Status of the GitHub connection: PENDING until approved once in the console, then AVAILABLE."
  value       = aws_codestarconnections_connection.this.connection_status
}

# ---- Artifact bucket ----

output "artifact_bucket_name" {
  description = "Name of the pipeline's artifact bucket."
  value       = module.artifact_bucket.id
}

# ---- Build projects ----

output "project_names" {
  description = "Name of each stage's CodeBuild project: test, build and deploy."
  value       = { for stage, project in aws_codebuild_project.this : stage => project.name }
}

output "build_log_group_name" {
  description = "Log group of all three builds (one stream prefix per stage): a failed release's reason is in the deploy stream."
  value       = aws_cloudwatch_log_group.build.name
}

# ---- Pipeline ----

output "pipeline_name" {
  description = "Name of the pipeline."
  value       = aws_codepipeline.this.name
}

output "pipeline_arn" {
  description = "ARN of the pipeline."
  value       = aws_codepipeline.this.arn
}
