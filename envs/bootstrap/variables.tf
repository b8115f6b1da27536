variable "region" {
  description = "AWS region of the state bucket and its KMS key."
  type        = string
  default     = "ap-northeast-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as ap-northeast-1."
  }
}

variable "allowed_account_id" {
  description = "The only AWS account this root may touch (12 digits); any other credentials make the provider refuse to run."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.allowed_account_id))
    error_message = "allowed_account_id must be exactly 12 digits."
  }
}

variable "system" {
  description = "System label, written to the System tag of every resource."
  type        = string
  default     = "todo"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.system))
    error_message = "system must be lowercase letters and digits only."
  }
}

variable "state_bucket_name" {
  description = "Globally unique name of the remote-state bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "kms_alias" {
  description = "Alias of the KMS key that encrypts the state bucket, e.g. alias/todo-shared-state."
  type        = string

  validation {
    condition     = can(regex("^alias/[a-zA-Z0-9/_-]+$", var.kms_alias)) && !startswith(var.kms_alias, "alias/aws/")
    error_message = "kms_alias must start with alias/ followed by letters, digits, /, _ or -, and must not start with alias/aws/ (reserved for AWS managed keys)."
  }
}
