output "state_bucket_name" {
  description = "Name of the remote-state bucket: the `bucket` of every env root's S3 backend."
  value       = module.state_bucket.id
}

output "state_bucket_arn" {
  description = "ARN of the remote-state bucket, for IAM policies of whoever runs Terraform."
  value       = module.state_bucket.arn
}

output "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the state: the `kms_key_id` of every env root's S3 backend, and a resource of the deployers' IAM policies."
  value       = aws_kms_key.state.arn
}
