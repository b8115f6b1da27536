# ---- Bucket ----

output "id" {
  description = "Name (ID) of the bucket."
  value       = aws_s3_bucket.this.id

  # Whatever uses the bucket by name (log delivery, pipelines) starts only once the bucket is
  # fully configured. `arn` carries no such dependency, so policy_documents can reference it
  # without a cycle.
  depends_on = [
    aws_s3_bucket_ownership_controls.this,
    aws_s3_bucket_policy.this,
    aws_s3_bucket_public_access_block.this,
    aws_s3_bucket_server_side_encryption_configuration.this,
  ]
}

output "arn" {
  description = "ARN of the bucket."
  value       = aws_s3_bucket.this.arn
}

output "bucket_regional_domain_name" {
  description = "Regional domain name of the bucket, for clients that must not use the global endpoint."
  value       = aws_s3_bucket.this.bucket_regional_domain_name
}
