# ---- Names ----

variable "names" {
  description = "AWS names of the copy vault and its key's alias, computed by the renderer and used literally."
  type = object({
    vault     = string # aws_backup_vault, 2-50 characters
    kms_alias = string # aws_kms_alias, "alias/..."
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{2,50}$", var.names.vault)) && can(regex("^alias/[a-zA-Z0-9/_-]+$", var.names.kms_alias)) && !startswith(var.names.kms_alias, "alias/aws")
    error_message = "names.vault must be 2-50 characters of letters, digits, hyphens and underscores; names.kms_alias \"alias/...\", not \"alias/aws...\"."
  }
}

# ---- KMS key ----

variable "deletion_window_in_days" {
  description = "Days a deleted key waits before it is gone (7-30)."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be from 7 to 30."
  }
}

# ---- Vault ----

variable "force_destroy" {
  description = "Let `terraform destroy` delete the copies with the vault. false keeps them: a destroy fails on a vault that holds any."
  type        = bool
  default     = false
  nullable    = false
}

variable "vault_lock" {
  description = "Backup Vault Lock, as the primary vault's (modules/backup): mode none, governance or compliance, with the retention range it enforces."
  type = object({
    mode               = string
    min_retention_days = number
    max_retention_days = number
    grace_days         = optional(number, 3)
  })
  default  = { mode = "none", min_retention_days = 1, max_retention_days = 36500 }
  nullable = false

  validation {
    condition     = contains(["none", "governance", "compliance"], var.vault_lock.mode) && var.vault_lock.min_retention_days >= 1 && var.vault_lock.min_retention_days <= var.vault_lock.max_retention_days && var.vault_lock.grace_days >= 3
    error_message = "vault_lock.mode must be none, governance or compliance, with 1 <= min_retention_days <= max_retention_days and grace_days >= 3."
  }
}
