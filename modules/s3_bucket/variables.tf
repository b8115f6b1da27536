# ---- Bucket ----

variable "name" {
  description = "Globally unique bucket name, computed by the renderer and used literally."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.name)) && !strcontains(var.name, "..")
    error_message = "name must be 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "force_destroy" {
  description = "Allow destroying the bucket while it still holds objects. Keep false for anything that must survive a mistaken destroy."
  type        = bool
  default     = false
  nullable    = false
}

# ---- Encryption ----

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key for default encryption (SSE-KMS with a bucket key). null selects SSE-S3 (AES256), which load balancer access logs require."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null ? true : can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be null or a KMS key ARN (arn:aws:kms:...)."
  }
}

# ---- Versioning and lifecycle ----

variable "versioning" {
  description = "Keep every version of every object. false suspends versioning (already stored versions remain)."
  type        = bool
  default     = true
  nullable    = false
}

variable "expiration_days" {
  description = "Delete current objects this many days after creation; null keeps them."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null ? true : var.expiration_days >= 1 && floor(var.expiration_days) == var.expiration_days
    error_message = "expiration_days must be null or a whole number of days, at least 1."
  }
}

variable "noncurrent_expiration_days" {
  description = "Delete noncurrent (overwritten or deleted) object versions this many days after they stop being current."
  type        = number
  default     = 90
  nullable    = false

  validation {
    condition     = var.noncurrent_expiration_days >= 1 && floor(var.noncurrent_expiration_days) == var.noncurrent_expiration_days
    error_message = "noncurrent_expiration_days must be a whole number of days, at least 1."
  }
}

# ---- Bucket policy ----

variable "policy_documents" {
  description = "Extra IAM policy documents (JSON) merged into the bucket policy, e.g. a log-delivery grant. The TLS-only deny is always added."
  type        = list(string)
  default     = []
  nullable    = false
}

# ---- Access logging ----

variable "access_log_bucket" {
  description = "Name of the bucket that receives this bucket's server access logs (under the prefix \"<name>/\"); null turns server access logging off."
  type        = string
  default     = null
}
