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

# ---- Build project ----

output "build_project_name" {
  description = "Name of the CodeBuild project."
  value       = aws_codebuild_project.this.name
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
