# ---- Names ----

variable "names" {
  description = "AWS names of the module's resources, computed by the renderer and used literally; `alarms` keyed like the alarms this module creates (see `alarms` and `cache_cluster_ids`), `rules` by rule (deployment, task, pipeline, database)."
  type = object({
    topic       = string      # aws_sns_topic: the alert topic
    cache_topic = string      # aws_sns_topic: ElastiCache's own events
    alarms      = map(string) # aws_cloudwatch_metric_alarm, per alarm
    rules       = map(string) # aws_cloudwatch_event_rule, per rule
    dashboard   = string      # aws_cloudwatch_dashboard
  })
  nullable = false

  validation {
    condition     = alltrue([for n in [var.names.topic, var.names.cache_topic] : can(regex("^[A-Za-z0-9_-]{1,256}$", n))])
    error_message = "names.topic and names.cache_topic: 1-256 letters, digits, '-' or '_' (standard topics)."
  }

  validation {
    condition     = alltrue([for n in values(var.names.alarms) : can(regex("^[ -~]{1,255}$", n))])
    error_message = "names.alarms: 1-255 printable ASCII characters each."
  }

  validation {
    condition     = alltrue([for n in values(var.names.rules) : can(regex("^[A-Za-z0-9._-]{1,64}$", n))])
    error_message = "names.rules: 1-64 letters, digits, '.', '-' or '_' each."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.names.dashboard))
    error_message = "names.dashboard: 1-255 letters, digits, '-' or '_'."
  }

  validation {
    condition     = setintersection(toset(keys(var.names.alarms)), toset(keys(local.alarms))) == toset(keys(local.alarms)) && length(var.names.alarms) == length(local.alarms)
    error_message = "names.alarms must name exactly the alarms of this module: one per key of `alarms`, the cache_* ones once per member (\"cache_cpu_001\")."
  }

  validation {
    condition     = setintersection(toset(keys(var.names.rules)), toset(keys(local.rules))) == toset(keys(local.rules)) && length(var.names.rules) == length(local.rules)
    error_message = "names.rules must name exactly the rules deployment, task, pipeline and database."
  }
}

variable "alert_label" {
  description = "Names the environment in every notification: the topics' display name and the first words of each event line (e.g. \"todo-prod\")."
  type        = string
  nullable    = false

  validation {
    # Printed into the JSON strings of the input templates: no quote or backslash.
    condition     = can(regex("^[A-Za-z0-9 ._-]{1,100}$", var.alert_label))
    error_message = "alert_label: 1-100 letters, digits, spaces, '.', '_' or '-'."
  }
}

variable "runbook_base_url" {
  description = "Where docs/runbooks/ is read, ending in '/': every alarm description and event line ends with this followed by its runbook section (<file>.md#<anchor>), e.g. \"https://github.com/<owner>/<repo>/blob/<branch>/docs/runbooks/\"."
  type        = string
  nullable    = false

  validation {
    # Printed into the JSON strings of the input templates: no quote, backslash or space. 300
    # characters leave every alarm description within CloudWatch's 1024 (checked per alarm).
    condition     = can(regex("^[^\\s\"\\\\]{1,300}/$", var.runbook_base_url))
    error_message = "runbook_base_url: at most 300 characters without spaces, quotes or backslashes, ending in '/'."
  }
}

# ---- Encryption ----

variable "kms_key_arn" {
  description = "Customer-managed KMS key of the alert topic. Its policy must let cloudwatch.amazonaws.com and events.amazonaws.com use it for this topic (modules/ssm's alert_topic)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

# ---- Subscriptions ----

variable "emails" {
  description = "Addresses subscribed to the alert topic and the cache events topic; each confirms once from the mail AWS sends. May be empty."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for e in var.emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))]) && length(distinct(var.emails)) == length(var.emails)
    error_message = "emails: distinct e-mail addresses (name@domain)."
  }
}

# ---- Alarms ----

variable "alarms" {
  description = "When each alarm fires, by alarm kind (every kind of the README's table): threshold in the kind's unit, period in seconds, evaluation_periods and the datapoints_to_alarm of them that must breach."
  type = map(object({
    threshold           = number
    period              = number
    evaluation_periods  = number
    datapoints_to_alarm = number
  }))
  nullable = false

  validation {
    condition     = setintersection(toset(keys(var.alarms)), toset(keys(local.alarm_kinds))) == toset(keys(local.alarm_kinds)) && length(var.alarms) == length(local.alarm_kinds)
    error_message = "alarms must set exactly the alarm kinds of this module (see its README)."
  }

  validation {
    condition = alltrue([
      for a in values(var.alarms) :
      a.threshold >= 0 && a.period >= 60 && a.period % 60 == 0 && a.evaluation_periods >= 1 &&
      a.datapoints_to_alarm >= 1 && a.datapoints_to_alarm <= a.evaluation_periods && a.period * a.evaluation_periods <= 86400
    ])
    error_message = "Each alarm: threshold >= 0, period a multiple of 60 seconds, 1 <= datapoints_to_alarm <= evaluation_periods, and period * evaluation_periods at most one day (86400)."
  }
}

variable "sleeps" {
  description = "Whether the environment sleeps outside working hours (modules/sleep): gaps in the service's and the database's metrics then count as not breaching."
  type        = bool
  nullable    = false
}

# ---- Watched resources ----

variable "alb_arn_suffix" {
  description = "ARN suffix of the load balancer (app/<name>/<id>): the LoadBalancer dimension."
  type        = string
  nullable    = false
}

variable "target_group_arn_suffix" {
  description = "ARN suffix of the app's target group (targetgroup/<name>/<id>): the TargetGroup dimension."
  type        = string
  nullable    = false
}

variable "alternate_target_group_arn_suffix" {
  description = "Blue/green only (null with rolling deployments): ARN suffix of the alternate target group of the pair (modules/proxy_server). ECS moves production traffic between the two at every deployment, so the target-group alarm and graphs watch both."
  type        = string
  default     = null
}

variable "cluster_name" {
  description = "Name of the ECS cluster (a literal from the renderer, not the ecs module's output, so the ecs module can depend on this one)."
  type        = string
  nullable    = false
}

variable "service_name" {
  description = "Name of the ECS service of the web tasks (a literal, as cluster_name)."
  type        = string
  nullable    = false
}

variable "task_families" {
  description = "Task definition families of the scheduled jobs and the migration: a stopped task of one of them with a non-zero exit code is reported."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.task_families) > 0 && alltrue([for f in var.task_families : can(regex("^[A-Za-z0-9_-]{1,255}$", f))])
    error_message = "task_families: at least one family; letters, digits, '-' or '_'."
  }
}

variable "schedule_group_name" {
  description = "EventBridge Scheduler group of the jobs (the ScheduleGroup dimension of the job-run graph)."
  type        = string
  nullable    = false
}

variable "dead_letter_queue_name" {
  description = "Name of the jobs' dead-letter queue: any visible message raises the dlq_messages alarm."
  type        = string
  nullable    = false
}

variable "db_instance_identifier" {
  description = "Identifier of the RDS instance (a literal, as cluster_name)."
  type        = string
  nullable    = false
}

variable "cache_cluster_ids" {
  description = "Member clusters of the ElastiCache replication group, by member suffix: {\"001\" = \"<group id>-001\", ...}. ElastiCache reports engine metrics per member cluster."
  type        = map(string)
  nullable    = false

  validation {
    condition     = length(var.cache_cluster_ids) > 0 && alltrue([for k, id in var.cache_cluster_ids : can(regex("^[0-9]{3}$", k)) && endswith(id, "-${k}")])
    error_message = "cache_cluster_ids: at least one member, keyed by its three-digit suffix, whose id ends in \"-<suffix>\"."
  }
}

variable "log_group_names" {
  description = "Log groups the log-based alarms read (the `log` kinds of the README's table): the app containers' (`app`), nginx's (`proxy`) and the jobs' and migration's (`batch`). Pass the owning modules' outputs, not literals: a metric filter can only be created once its log group exists. They must be of the STANDARD log class (Infrequent Access has no metric filters)."
  type = object({
    app   = string
    proxy = string
    batch = string
  })
  nullable = false
}

variable "waf" {
  description = "The web ACL in front of the load balancer (modules/waf outputs): its name (the WebACL dimension) and the login rate rule's metric name (its Rule dimension). null: no web ACL and no waf_* alarms (names.alarms then leaves them out; `alarms` still sets them)."
  type = object({
    web_acl_name           = string
    login_rate_metric_name = string
  })
  default = null
}

variable "pipeline_name" {
  description = "Name of the deploy pipeline: a failed execution is reported."
  type        = string
  nullable    = false
}
