# ---- Names ----

variable "names" {
  description = "AWS names of the module's resources, computed by the renderer and used literally; `schedules` and `task_families` are keyed by job name."
  type = object({
    schedule_group      = string      # aws_scheduler_schedule_group
    schedules           = map(string) # aws_scheduler_schedule, per job
    task_families       = map(string) # aws_ecs_task_definition, per job
    migrate_task_family = string      # aws_ecs_task_definition
    scheduler_role      = string      # aws_iam_role
    scheduler_policy    = string      # aws_iam_role_policy
    dead_letter_queue   = string      # aws_sqs_queue
    log_group           = string      # aws_cloudwatch_log_group
  })

  validation {
    condition = alltrue([
      for n in concat([var.names.schedule_group], values(var.names.schedules)) :
      can(regex("^[A-Za-z0-9._-]{1,64}$", n))
    ])
    error_message = "names.schedule_group and names.schedules: 1-64 letters, digits, '.', '_' or '-'."
  }

  validation {
    condition = alltrue([
      for n in concat([var.names.migrate_task_family], values(var.names.task_families)) :
      can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$", n))
    ])
    error_message = "names.migrate_task_family and names.task_families: 1-255 letters, digits, '-' or '_'."
  }

  validation {
    condition     = length(distinct(concat([var.names.migrate_task_family], values(var.names.task_families)))) == length(var.names.task_families) + 1
    error_message = "Every job and the migration need task families of their own."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.names.scheduler_role))
    error_message = "names.scheduler_role: 1-64 letters, digits or '+=,.@_-'."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.names.scheduler_policy))
    error_message = "names.scheduler_policy: 1-128 letters, digits or '+=,.@_-'."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.names.dead_letter_queue))
    error_message = "names.dead_letter_queue: 1-80 letters, digits, '-' or '_' (a standard queue: no '.fifo')."
  }

  validation {
    condition     = length(var.names.log_group) <= 512 && can(regex("^/[A-Za-z0-9._/#-]+$", var.names.log_group))
    error_message = "names.log_group: path style ('/system/env/...'), at most 512 of letters, digits, '.', '_', '-', '/', '#'."
  }
}

# ---- Encryption ----

variable "kms_key_arn" {
  description = "Customer-managed KMS key for the log group, the dead-letter queue and the schedules' target input."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
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

# ---- Logs ----

variable "log_retention_days" {
  description = "Retention of the batch and migration log group, in days."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

# ---- Task definitions ----

variable "app_container" {
  description = "The app container definition from the ecs module (`app_container` output): image, user, read-only root, scratch mounts, environment, secrets."
  type = object({
    name                   = string
    image                  = string
    essential              = bool
    user                   = string
    readonlyRootFilesystem = bool
    linuxParameters = object({
      initProcessEnabled = bool
      capabilities       = object({ drop = list(string) })
    })
    mountPoints = list(object({
      sourceVolume  = string
      containerPath = string
      readOnly      = bool
    }))
    environment = list(object({ name = string, value = string }))
    secrets     = list(object({ name = string, valueFrom = string }))
    stopTimeout = number
  })

  validation {
    condition     = var.app_container.readonlyRootFilesystem && !contains(["", "0", "root"], split(":", var.app_container.user)[0]) && contains(var.app_container.linuxParameters.capabilities.drop, "ALL")
    error_message = "app_container must run with a read-only root file system, as a non-root user, without Linux capabilities (drop ALL)."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the job and migration tasks: the ecs module's cpu_architecture output, the architecture the pipeline builds the app image for."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "execution_role_arn" {
  description = "Task execution role shared with the service (ecs module); it must be allowed to write to this module's log group."
  type        = string
}

variable "task_role_arn" {
  description = "Task role shared with the service (ecs module)."
  type        = string
}

variable "migrate_task_role_arn" {
  description = "Task role of the migration task (ecs module's migrate_task_role_arn): the only role that may read the database's master credentials."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.migrate_task_role_arn))
    error_message = "migrate_task_role_arn must be an IAM role ARN."
  }
}

variable "migration_secret_arn" {
  description = "Secrets Manager secret of the database's master credentials (rds module's master_user_secret_arn), handed to the migration as DATABASE_CREDENTIALS_ARN."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", var.migration_secret_arn))
    error_message = "migration_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "migrate_cpu" {
  description = "CPU units of the one-off migration task."
  type        = number
  default     = 256

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096], var.migrate_cpu)
    error_message = "migrate_cpu must be one of 256, 512, 1024, 2048, 4096."
  }
}

variable "migrate_memory" {
  description = "Memory (MiB) of the one-off migration task; a Fargate combination with migrate_cpu."
  type        = number
  default     = 512

  validation {
    condition = contains(lookup({
      "256"  = [512, 1024, 2048]
      "512"  = range(1024, 4097, 1024)
      "1024" = range(2048, 8193, 1024)
      "2048" = range(4096, 16385, 1024)
      "4096" = range(8192, 30721, 1024)
    }, tostring(var.migrate_cpu), []), var.migrate_memory)
    error_message = "migrate_memory must match migrate_cpu: 256 -> 512/1024/2048; 512 -> 1024-4096; 1024 -> 2048-8192; 2048 -> 4096-16384; 4096 -> 8192-30720 (steps of 1024)."
  }
}

# ---- Schedules ----

variable "jobs" {
  description = "Scheduled jobs: each runs `command` in the app image on its own schedule (cron(...), rate(...) or at(...), in `timezone`)."
  type = list(object({
    name     = string
    schedule = string
    timezone = optional(string, "Asia/Tokyo")
    command  = list(string)
    cpu      = optional(number, 256)
    memory   = optional(number, 512)
    enabled  = optional(bool, true)
  }))
  nullable = false
  default  = []

  validation {
    condition     = alltrue([for j in var.jobs : can(regex("^[a-z][a-z0-9-]{0,62}$", j.name))])
    error_message = "jobs[*].name: lowercase letters, digits and '-', starting with a letter, at most 63 characters."
  }

  validation {
    condition     = length(distinct([for j in var.jobs : j.name])) == length(var.jobs)
    error_message = "jobs[*].name must be unique."
  }

  validation {
    condition     = alltrue([for j in var.jobs : can(regex("^(cron|rate|at)\\(.+\\)$", j.schedule))])
    error_message = "jobs[*].schedule must be cron(...), rate(...) or at(...)."
  }

  validation {
    condition     = alltrue([for j in var.jobs : length(j.command) > 0])
    error_message = "jobs[*].command must not be empty."
  }

  validation {
    condition = alltrue([
      for j in var.jobs : contains(lookup({
        "256"   = [512, 1024, 2048]
        "512"   = range(1024, 4097, 1024)
        "1024"  = range(2048, 8193, 1024)
        "2048"  = range(4096, 16385, 1024)
        "4096"  = range(8192, 30721, 1024)
        "8192"  = range(16384, 61441, 4096)
        "16384" = range(32768, 122881, 8192)
      }, tostring(j.cpu), []), j.memory)
    ])
    error_message = "jobs[*].cpu/memory must be a Fargate combination: 256 -> 512/1024/2048; 512 -> 1024-4096; 1024 -> 2048-8192; 2048 -> 4096-16384; 4096 -> 8192-30720 (steps of 1024); 8192 -> 16384-61440 (steps of 4096); 16384 -> 32768-122880 (steps of 8192)."
  }

  validation {
    condition     = alltrue([for j in var.jobs : contains(keys(var.names.schedules), j.name) && contains(keys(var.names.task_families), j.name)])
    error_message = "Every job needs a name in names.schedules and in names.task_families, keyed by the job's name."
  }
}

variable "flexible_window_minutes" {
  description = "Window after the scheduled time within which Scheduler may start a job (spreads load)."
  type        = number
  default     = 15

  validation {
    condition     = var.flexible_window_minutes >= 1 && var.flexible_window_minutes <= 1440
    error_message = "flexible_window_minutes must be from 1 to 1440."
  }
}

variable "maximum_retry_attempts" {
  description = "Times Scheduler retries a failed RunTask call before sending the event to the dead-letter queue."
  type        = number
  default     = 3

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 185
    error_message = "maximum_retry_attempts must be from 0 to 185."
  }
}

variable "maximum_event_age_seconds" {
  description = "How long Scheduler keeps retrying one invocation, in seconds."
  type        = number
  default     = 3600

  validation {
    condition     = var.maximum_event_age_seconds >= 60 && var.maximum_event_age_seconds <= 86400
    error_message = "maximum_event_age_seconds must be from 60 to 86400."
  }
}

variable "cluster_arn" {
  description = "ECS cluster the jobs run in."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/[A-Za-z0-9_-]+$", var.cluster_arn))
    error_message = "cluster_arn must be an ECS cluster ARN (arn:aws:ecs:<region>:<account>:cluster/<name>)."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets of the job tasks (no public IP)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.private_subnet_ids) > 0
    error_message = "private_subnet_ids needs at least one subnet."
  }
}

variable "security_group_id" {
  description = "Security group of the job tasks: the ecs module's tasks group (reaches the database, cache and AWS APIs)."
  type        = string
}
