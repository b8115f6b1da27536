terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # No backend block, on purpose: this root creates the S3 bucket that every other root's
  # backend stores its state in, so its own state cannot live there before it exists.
  # It stays in a local terraform.tfstate next to this file (see README.md).
}
