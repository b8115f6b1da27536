# ---- Names ----

variable "names" {
  description = "AWS names of the resources this module creates, computed by the renderer and used literally."
  type = object({
    replication_group = string # aws_elasticache_replication_group id, at most 40 characters
    subnet_group      = string # aws_elasticache_subnet_group, at most 255 characters
    parameter_group   = string # aws_elasticache_parameter_group, at most 255 characters
    security_group    = string # aws_security_group
    log_group         = string # aws_cloudwatch_log_group for the slow log, path style
    app_user          = string # aws_elasticache_user ID (= its user name) the app authenticates as with IAM
    default_user      = string # aws_elasticache_user ID of the disabled "default" user
    user_group        = string # aws_elasticache_user_group ID
  })
  nullable = false

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$", var.names.replication_group)) && !strcontains(var.names.replication_group, "--")
    error_message = "names.replication_group must be 1-40 characters of lowercase letters, digits and hyphens, start with a letter, not end with a hyphen and not contain \"--\"."
  }

  validation {
    condition = alltrue([
      for name in [var.names.subnet_group, var.names.parameter_group] :
      can(regex("^[a-z]([a-z0-9-]{0,253}[a-z0-9])?$", name)) && !strcontains(name, "--")
    ])
    error_message = "names.subnet_group and names.parameter_group must be 1-255 characters of lowercase letters, digits and hyphens, start with a letter, not end with a hyphen and not contain \"--\"."
  }

  validation {
    condition = alltrue([
      for id in [var.names.app_user, var.names.default_user, var.names.user_group] :
      can(regex("^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$", id)) && !strcontains(id, "--")
    ])
    error_message = "names.app_user, names.default_user and names.user_group must be 1-40 characters of lowercase letters, digits and hyphens, start with a letter, not end with a hyphen and not contain \"--\" (ElastiCache stores user IDs lowercase, and an IAM user's name must equal its ID)."
  }

  validation {
    condition     = length(var.names.security_group) > 0 && length(var.names.security_group) <= 255 && !startswith(var.names.security_group, "sg-")
    error_message = "names.security_group must be 1-255 characters and must not start with \"sg-\"."
  }

  validation {
    condition     = can(regex("^/[A-Za-z0-9._/#-]{1,510}$", var.names.log_group))
    error_message = "names.log_group must be a path-style log group name (\"/system/env/...\") of at most 512 characters: letters, digits and ._/#-."
  }
}

# ---- Network ----

variable "vpc_id" {
  description = "ID of the VPC that holds the cache."
  type        = string
  nullable    = false
}

variable "private_subnet_ids" {
  description = "IDs of the private subnets of the cache subnet group, in at least two availability zones (so that a replica can sit in another zone)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.private_subnet_ids) >= 2
    error_message = "private_subnet_ids must list at least two subnets in different availability zones."
  }
}

variable "allowed_security_group_ids" {
  description = "IDs of the security groups (the app's tasks) allowed to connect on 6379. No CIDR is ever admitted."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.allowed_security_group_ids) > 0 && alltrue([for id in var.allowed_security_group_ids : startswith(id, "sg-")])
    error_message = "allowed_security_group_ids must list at least one security group ID (\"sg-...\")."
  }
}

# ---- Encryption ----

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts the cache at rest, its snapshots and the slow-log log group (its key policy must allow the CloudWatch Logs service)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias or a bare key ID."
  }
}

# ---- Replication group ----

variable "engine" {
  description = "Cache engine: \"valkey\" (default; open source, cheaper per node) or \"redis\"."
  type        = string
  default     = "valkey"
  nullable    = false

  validation {
    condition     = contains(["valkey", "redis"], var.engine)
    error_message = "engine must be \"valkey\" or \"redis\"."
  }
}

variable "engine_version" {
  description = "Engine version as major.minor: Valkey 7.2 or 8.x and later (\"8.2\"), Redis OSS 7.x (\"7.1\")."
  type        = string
  default     = "8.2"
  nullable    = false

  validation {
    condition = (
      var.engine == "valkey"
      ? can(regex("^(7\\.2|([89]|[1-9][0-9])\\.[0-9]+)$", var.engine_version))
      : can(regex("^7\\.[0-9]+$", var.engine_version))
    )
    error_message = "engine_version must be major.minor: for valkey 7.2, 8.0, 8.1, 8.2 or later; for redis 7.0 or 7.1."
  }
}

variable "node_type" {
  description = "Cache node type, e.g. \"cache.t4g.micro\" (dev) or \"cache.m7g.large\" (prod)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^cache\\.[a-z0-9-]+\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must be an ElastiCache node type such as \"cache.t4g.micro\" or \"cache.m7g.large\"."
  }
}

variable "num_cache_clusters" {
  description = "Number of nodes: one primary plus replicas (1-6). With 2 or more, automatic failover and Multi-AZ are on; with 1 (dev) they are off, since failover needs a replica."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.num_cache_clusters >= 1 && var.num_cache_clusters <= 6 && floor(var.num_cache_clusters) == var.num_cache_clusters
    error_message = "num_cache_clusters must be a whole number from 1 to 6 (2 or more for automatic failover and Multi-AZ)."
  }
}

# ---- Backups and maintenance ----

variable "snapshot_retention_limit" {
  description = "Days of daily snapshots kept (0-35; 0 turns snapshots off)."
  type        = number
  default     = 7
  nullable    = false

  validation {
    condition     = var.snapshot_retention_limit >= 0 && var.snapshot_retention_limit <= 35 && floor(var.snapshot_retention_limit) == var.snapshot_retention_limit
    error_message = "snapshot_retention_limit must be a whole number from 0 to 35."
  }
}

variable "snapshot_window" {
  description = "Daily snapshot window in UTC, \"hh24:mi-hh24:mi\", at least 60 minutes, not overlapping maintenance_window."
  type        = string
  default     = "16:00-17:00"
  nullable    = false

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.snapshot_window))
    error_message = "snapshot_window must look like \"16:00-17:00\" (UTC, hh24:mi-hh24:mi)."
  }
}

variable "maintenance_window" {
  description = "Weekly maintenance window in UTC, \"ddd:hh24:mi-ddd:hh24:mi\", at least 60 minutes, not overlapping snapshot_window."
  type        = string
  default     = "sun:19:00-sun:20:00"
  nullable    = false

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.maintenance_window))
    error_message = "maintenance_window must look like \"sun:19:00-sun:20:00\" (UTC, lowercase three-letter day names)."
  }
}

# ---- Logs ----

variable "log_retention_days" {
  description = "Days the slow-log log group keeps its events (a CloudWatch Logs retention value, e.g. 30 in dev, 365 in prod)."
  type        = number
  default     = 365
  nullable    = false

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

# ---- Notifications ----

variable "notification_topic_arn" {
  description = "SNS topic ElastiCache publishes the group's events to (failover, node replacement, maintenance). It must be unencrypted: ElastiCache cannot publish to an encrypted topic. null: no notifications."
  type        = string
  default     = null

  validation {
    condition     = var.notification_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.notification_topic_arn))
    error_message = "notification_topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>) or null."
  }
}
