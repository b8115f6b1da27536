variable "names" {
  description = "AWS names computed by the renderer: kms_key (key description and Name tag), kms_alias (\"alias/...\")."
  type = object({
    kms_key   = string
    kms_alias = string
  })

  validation {
    condition = (
      can(regex("^alias/[A-Za-z0-9/_-]+$", var.names.kms_alias))
      && length(var.names.kms_alias) <= 256
      && !startswith(var.names.kms_alias, "alias/aws/")
    )
    error_message = "names.kms_alias must be \"alias/\" followed by [A-Za-z0-9/_-], at most 256 characters in all, and must not start with \"alias/aws/\" (reserved for AWS managed keys)."
  }

  validation {
    condition     = length(var.names.kms_key) > 0 && length(var.names.kms_key) <= 8192
    error_message = "names.kms_key must be 1 to 8192 characters (it is the key description)."
  }
}

# ---- KMS key ----

variable "deletion_window_in_days" {
  description = "Days a deleted key stays recoverable (pending deletion) before KMS destroys it."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30 && floor(var.deletion_window_in_days) == var.deletion_window_in_days
    error_message = "deletion_window_in_days must be a whole number from 7 to 30."
  }
}

variable "log_group_prefix" {
  description = "Prefix of this environment's CloudWatch log group names (e.g. \"/todo/dev/\"); CloudWatch Logs may use the key only for log groups under it."
  type        = string

  validation {
    condition     = can(regex("^/[A-Za-z0-9_./#-]*/$", var.log_group_prefix))
    error_message = "log_group_prefix must start and end with \"/\" (e.g. \"/todo/dev/\") and use only [A-Za-z0-9_./#-]."
  }
}

variable "additional_log_group_prefixes" {
  description = "Further log group name prefixes the key may encrypt, for log groups whose names AWS fixes (e.g. \"/aws/rds/instance/<id>/\", or a WAF log group's \"aws-waf-logs-<name>\")."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    # WAF logs only to log groups named "aws-waf-logs-..." (AWS WAF Developer Guide), outside any path.
    condition     = alltrue([for p in var.additional_log_group_prefixes : can(regex("^(/[A-Za-z0-9_./#-]*/|aws-waf-logs-[A-Za-z0-9_./#-]+)$", p))])
    error_message = "Each additional log group prefix must start and end with \"/\", or start with \"aws-waf-logs-\", and use only [A-Za-z0-9_./#-]."
  }
}

variable "alert_topic" {
  description = "The environment's alert topic, encrypted with this key: its name and the names of the CloudWatch alarms that publish to it. CloudWatch (those alarms) and EventBridge may then use the key for that topic only. null: no alert topic."
  type = object({
    name        = string
    alarm_names = list(string)
  })
  default = null

  validation {
    condition     = var.alert_topic == null || can(regex("^[A-Za-z0-9_-]{1,256}$", var.alert_topic.name))
    error_message = "alert_topic.name must be a standard SNS topic name: 1-256 letters, digits, '-' or '_'."
  }

  validation {
    condition     = var.alert_topic == null || length(try(var.alert_topic.alarm_names, [])) > 0
    error_message = "alert_topic.alarm_names must name at least one alarm."
  }
}

# ---- Secure parameters ----

variable "secure_parameters" {
  description = "Secrets to generate, keyed by a logical name (e.g. DJANGO_SECRET_KEY): the SSM parameter name (path style) and the generated length. Values are random, alphanumeric and never stored in state."
  type = map(object({
    name   = string
    length = optional(number, 50)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for p in values(var.secure_parameters) : can(regex("^/[A-Za-z0-9_./-]+$", p.name)) && length(p.name) <= 1011])
    error_message = "Each secure parameter name must be path style (\"/todo/dev/...\"), use only [A-Za-z0-9_./-] and be at most 1011 characters."
  }

  validation {
    condition     = alltrue([for p in values(var.secure_parameters) : p.length >= 32 && p.length <= 4096 && floor(p.length) == p.length])
    error_message = "Each secure parameter length must be a whole number from 32 to 4096."
  }
}

variable "secret_version" {
  description = "Version of the generated secrets; increase it to write new random values to every secure parameter (rotation)."
  type        = number
  default     = 1

  validation {
    condition     = var.secret_version >= 1 && floor(var.secret_version) == var.secret_version
    error_message = "secret_version must be a whole number of at least 1."
  }
}
