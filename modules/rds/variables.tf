# ---- Names ----

variable "names" {
  description = "AWS names of the resources this module creates, computed by the renderer and used literally."
  type = object({
    instance        = string # aws_db_instance identifier, at most 63 characters
    final_snapshot  = string # final DB snapshot identifier, at most 63 characters
    subnet_group    = string # aws_db_subnet_group, at most 255 characters
    parameter_group = string # aws_db_parameter_group, at most 255 characters
    security_group  = string # aws_security_group
    monitoring_role = string # aws_iam_role for enhanced monitoring, at most 64 characters
    # Exported log -> the log group RDS writes it to ("/aws/rds/instance/<instance>/<log>").
    log_groups = map(string)
  })
  nullable = false

  validation {
    condition = alltrue([
      for name in [var.names.instance, var.names.final_snapshot] :
      can(regex("^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$", name)) && !strcontains(name, "--")
    ])
    error_message = "names.instance and names.final_snapshot must be 1-63 characters of lowercase letters, digits and hyphens, start with a letter, not end with a hyphen and not contain \"--\"."
  }

  validation {
    condition = length(var.names.log_groups) > 0 && alltrue([
      for log, name in var.names.log_groups :
      contains(["postgresql", "upgrade", "iam-db-auth-error"], log) && name == "/aws/rds/instance/${var.names.instance}/${log}"
    ])
    error_message = "names.log_groups maps exported logs (postgresql, upgrade, iam-db-auth-error) to the group RDS writes them to: /aws/rds/instance/<names.instance>/<log>."
  }

  validation {
    condition     = can(regex("^[a-z0-9 ._-]{1,255}$", var.names.subnet_group)) && lower(var.names.subnet_group) != "default"
    error_message = "names.subnet_group must be 1-255 characters of lowercase letters, digits, spaces, dots, underscores and hyphens, and not \"default\"."
  }

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,253}[a-z0-9])?$", var.names.parameter_group)) && !strcontains(var.names.parameter_group, "--")
    error_message = "names.parameter_group must be 1-255 characters of lowercase letters, digits and hyphens, start with a letter, not end with a hyphen and not contain \"--\"."
  }

  validation {
    condition     = length(var.names.security_group) > 0 && length(var.names.security_group) <= 255 && !startswith(var.names.security_group, "sg-")
    error_message = "names.security_group must be 1-255 characters and must not start with \"sg-\"."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.names.monitoring_role))
    error_message = "names.monitoring_role must be 1-64 characters of letters, digits and +=,.@_-."
  }
}

# ---- Network ----

variable "vpc_id" {
  description = "ID of the VPC that holds the database."
  type        = string
  nullable    = false
}

variable "private_subnet_ids" {
  description = "IDs of the private subnets of the DB subnet group, in at least two availability zones (RDS requires two even for a Single-AZ instance)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids must list at least two subnets in different availability zones."
  }
}

variable "allowed_security_group_ids" {
  description = "IDs of the security groups (the app's tasks) allowed to connect to PostgreSQL on 5432. No CIDR is ever admitted."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.allowed_security_group_ids) > 0 && alltrue([for id in var.allowed_security_group_ids : startswith(id, "sg-")])
    error_message = "allowed_security_group_ids must list at least one security group ID (\"sg-...\")."
  }
}

# ---- Encryption ----

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the storage, snapshots, the master user secret and Performance Insights."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias or a bare key ID."
  }
}

# ---- IAM ----

variable "permissions_boundary_arn" {
  description = "ARN of the managed policy every role of this module carries as its permissions boundary (created by the environment's bootstrap, modules/bootstrap); the CI apply role may create roles only with it."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be the ARN of a customer managed IAM policy."
  }
}

# ---- Database instance ----

variable "engine_version" {
  description = "PostgreSQL version: a major (\"17\", the newest minor is chosen and auto minor upgrades never drift from the configuration) or major.minor (\"17.6\"). Major 16 or newer."
  type        = string
  default     = "17"
  nullable    = false

  validation {
    condition     = can(regex("^[0-9]+(\\.[0-9]+)?$", var.engine_version)) && try(tonumber(split(".", var.engine_version)[0]) >= 16, false)
    error_message = "engine_version must be a PostgreSQL major (\"16\", \"17\") or major.minor (\"16.10\", \"17.6\") version, major 16 or newer."
  }
}

variable "instance_class" {
  description = "DB instance class, e.g. \"db.t4g.micro\" (dev) or \"db.m7g.large\" (prod)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^db\\.[a-z0-9-]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must be an RDS instance class such as \"db.t4g.micro\" or \"db.m7g.large\"."
  }
}

variable "allocated_storage" {
  description = "Initial gp3 storage in GiB (20-65536)."
  type        = number
  default     = 20
  nullable    = false

  validation {
    condition     = var.allocated_storage >= 20 && var.allocated_storage <= 65536 && floor(var.allocated_storage) == var.allocated_storage
    error_message = "allocated_storage must be a whole number of GiB from 20 to 65536."
  }
}

variable "max_allocated_storage" {
  description = "Ceiling in GiB up to which storage autoscaling may grow the volume; at least allocated_storage (equal turns autoscaling off)."
  type        = number
  default     = 100
  nullable    = false

  validation {
    condition     = var.max_allocated_storage >= var.allocated_storage && var.max_allocated_storage <= 65536 && floor(var.max_allocated_storage) == var.max_allocated_storage
    error_message = "max_allocated_storage must be a whole number of GiB from allocated_storage to 65536."
  }
}

variable "db_name" {
  description = "Name of the database created with the instance."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,62}$", var.db_name)) && !contains(["template0", "template1", "rdsadmin"], lower(var.db_name))
    error_message = "db_name must be 1-63 characters of letters, digits and underscores, start with a letter, and not be template0, template1 or rdsadmin."
  }
}

variable "username" {
  description = "Master user name; its password is generated and kept in Secrets Manager by RDS."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9_]{0,62}$", var.username)) && !contains(["rdsadmin", "rdsrepladmin", "admin", "public", "user"], lower(var.username))
    error_message = "username must be 1-63 characters of letters, digits and underscores, start with a letter, and not be a reserved word (rdsadmin, rdsrepladmin, admin, public, user)."
  }
}

variable "app_username" {
  description = "PostgreSQL role the app's tasks log in as, with IAM tokens only (rds_iam); the migration task, as master, creates it and makes it the owner of the app's tables."
  type        = string
  default     = "todo_app"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.app_username)) && !contains(["rdsadmin", "rdsrepladmin", "admin", "public", "user", "rds_iam", "postgres"], var.app_username) && lower(var.app_username) != lower(var.username)
    error_message = "app_username must be 1-63 characters of lowercase letters, digits and underscores, start with a letter, differ from the master username and not be a reserved name (rdsadmin, rdsrepladmin, admin, public, user, rds_iam, postgres)."
  }
}

variable "multi_az" {
  description = "Run a synchronous standby in a second availability zone (false in dev, true in prod)."
  type        = bool
  default     = true
  nullable    = false
}

variable "deletion_protection" {
  description = "Refuse to delete the instance until this is turned off (false in dev, true in prod)."
  type        = bool
  default     = true
  nullable    = false
}

variable "final_snapshot" {
  description = "Take a final snapshot (named names.final_snapshot plus the instance's creation time) when the instance is deleted."
  type        = bool
  default     = true
  nullable    = false
}

# ---- Backups and maintenance ----

variable "keep_automated_backups_on_delete" {
  description = "Keep the automated backups when the instance is deleted, until their retention ends (false deletes them with it)."
  type        = bool
  default     = true
  nullable    = false
}

variable "backup_retention_days" {
  description = "Days of automated backups and point-in-time recovery (1-35)."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35 && floor(var.backup_retention_days) == var.backup_retention_days
    error_message = "backup_retention_days must be a whole number from 1 to 35 (0 would turn backups off)."
  }
}

variable "backup_window" {
  description = "Daily backup window in UTC, \"hh24:mi-hh24:mi\", at least 30 minutes, not overlapping maintenance_window."
  type        = string
  default     = "17:00-18:00"
  nullable    = false

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_window))
    error_message = "backup_window must look like \"17:00-18:00\" (UTC, hh24:mi-hh24:mi)."
  }
}

variable "maintenance_window" {
  description = "Weekly maintenance window in UTC, \"ddd:hh24:mi-ddd:hh24:mi\", at least 30 minutes, not overlapping backup_window."
  type        = string
  default     = "sun:18:00-sun:19:00"
  nullable    = false

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.maintenance_window))
    error_message = "maintenance_window must look like \"sun:18:00-sun:19:00\" (UTC, lowercase three-letter day names)."
  }
}

# ---- Monitoring ----

variable "performance_insights_retention_days" {
  description = "Days Performance Insights keeps its data: 7 (free tier) or a multiple of 31 up to 731."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.performance_insights_retention_days == 7 || var.performance_insights_retention_days == 731 || (var.performance_insights_retention_days % 31 == 0 && var.performance_insights_retention_days >= 31 && var.performance_insights_retention_days <= 713)
    error_message = "performance_insights_retention_days must be 7, a multiple of 31 from 31 to 713, or 731."
  }
}

variable "monitoring_interval" {
  description = "Seconds between enhanced monitoring samples (1, 5, 10, 15, 30 or 60; enhanced monitoring is always on)."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = contains([1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be one of 1, 5, 10, 15, 30 or 60."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the exported PostgreSQL logs."
  type        = number
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch's retention periods: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "log_min_duration_ms" {
  description = "Statements running at least this many milliseconds are logged (log_min_duration_statement); -1 turns it off."
  type        = number
  default     = 1000
  nullable    = false

  validation {
    condition     = var.log_min_duration_ms >= -1 && floor(var.log_min_duration_ms) == var.log_min_duration_ms
    error_message = "log_min_duration_ms must be a whole number of milliseconds, or -1 to turn slow statement logging off."
  }
}
