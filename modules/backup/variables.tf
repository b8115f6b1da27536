# ---- Names ----

variable "names" {
  description = "AWS names of the resources this module creates, computed by the renderer and used literally."
  type = object({
    vault     = string # aws_backup_vault, 2-50 characters
    plan      = string # aws_backup_plan, at most 50 characters
    selection = string # aws_backup_selection, at most 50 characters
    role      = string # aws_iam_role AWS Backup assumes, at most 64 characters
    policy    = string # aws_iam_role_policy of that role (the keys)
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{2,50}$", var.names.vault))
    error_message = "names.vault must be 2-50 characters of letters, digits, hyphens and underscores."
  }

  validation {
    condition     = alltrue([for name in [var.names.plan, var.names.selection] : can(regex("^[a-zA-Z0-9._-]{1,50}$", name))])
    error_message = "names.plan and names.selection must be 1-50 characters of letters, digits, dots, hyphens and underscores."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.names.role)) && can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.names.policy))
    error_message = "names.role must be 1-64 and names.policy 1-128 characters of letters, digits and +=,.@_-."
  }
}

# ---- Vault ----

variable "kms_key_arn" {
  description = "ARN of the environment's customer-managed KMS key: it encrypts the vault, and the database's recovery points are encrypted with it already (they keep the source's key)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete the vault's recovery points with it. false keeps them: a destroy fails on a vault that holds any."
  type        = bool
  default     = false
  nullable    = false
}

variable "vault_lock" {
  description = "Backup Vault Lock: mode none, governance (removable) or compliance (irreversible after grace_days); recovery points must be kept min_retention_days to max_retention_days."
  type = object({
    mode               = string
    min_retention_days = number
    max_retention_days = number
    grace_days         = optional(number, 3)
  })
  default  = { mode = "none", min_retention_days = 1, max_retention_days = 36500 }
  nullable = false

  validation {
    condition     = contains(["none", "governance", "compliance"], var.vault_lock.mode)
    error_message = "vault_lock.mode must be none, governance or compliance."
  }

  validation {
    condition     = var.vault_lock.min_retention_days >= 1 && var.vault_lock.min_retention_days <= var.vault_lock.max_retention_days
    error_message = "vault_lock.min_retention_days must be at least 1 and at most max_retention_days."
  }

  validation {
    condition     = var.vault_lock.grace_days >= 3
    error_message = "vault_lock.grace_days must be at least 3 (AWS Backup's cooling-off period before a compliance lock becomes immutable)."
  }
}

# ---- Plan ----

variable "schedule" {
  description = "When the daily backup starts: an AWS Backup cron expression in UTC, e.g. \"cron(0 20 * * ? *)\"."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^cron\\(.+\\)$", var.schedule))
    error_message = "schedule must be a cron expression such as \"cron(0 20 * * ? *)\"."
  }
}

variable "retention_days" {
  description = "Days each daily snapshot is kept."
  type        = number
  nullable    = false

  validation {
    condition     = var.retention_days >= 1 && floor(var.retention_days) == var.retention_days
    error_message = "retention_days must be a whole number of days, at least 1."
  }
}

variable "continuous_retention_days" {
  description = "Days of continuous backup (point-in-time recovery) AWS Backup keeps for the database, 1-35; null leaves point-in-time recovery to RDS's automated backups."
  type        = number
  default     = null

  validation {
    condition     = var.continuous_retention_days == null || try(var.continuous_retention_days >= 1 && var.continuous_retention_days <= 35 && floor(var.continuous_retention_days) == var.continuous_retention_days, false)
    error_message = "continuous_retention_days must be a whole number from 1 to 35 (AWS Backup's limit for continuous backups), or null."
  }
}

variable "copy" {
  description = "The vault in a second region that receives a copy of each daily snapshot (modules/backup/copy_vault), its key, and how long copies are kept; null makes no copy."
  type = object({
    vault_arn      = string
    kms_key_arn    = string
    retention_days = number
  })
  default = null

  validation {
    condition     = var.copy == null || try(var.copy.retention_days >= 1, false)
    error_message = "copy.retention_days must be at least 1."
  }
}

# ---- What is backed up ----

variable "db_instance_arn" {
  description = "ARN of the RDS DB instance the plan backs up."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:rds:[a-z0-9-]+:[0-9]{12}:db:.+$", var.db_instance_arn))
    error_message = "db_instance_arn must be an RDS DB instance ARN (arn:aws:rds:<region>:<account>:db:<identifier>)."
  }
}

# ---- Service role ----

variable "permissions_boundary_arn" {
  description = "ARN of the managed policy every role of this module carries as its permissions boundary (created by the environment's bootstrap, modules/bootstrap); the CI apply role may create roles only with it."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be the ARN of a customer managed IAM policy."
  }
}
