# ---- Names ----

variable "names" {
  description = "AWS names of the module's resources, computed by the renderer and used literally."
  type = object({
    cluster             = string # aws_ecs_cluster
    service             = string # aws_ecs_service
    task_family         = string # aws_ecs_task_definition
    app_repository      = string # aws_ecr_repository
    proxy_repository    = string # aws_ecr_repository
    app_log_group       = string # aws_cloudwatch_log_group
    proxy_log_group     = string # aws_cloudwatch_log_group
    exec_log_group      = string # aws_cloudwatch_log_group
    execution_role      = string # aws_iam_role
    task_role           = string # aws_iam_role
    execution_policy    = string # aws_iam_role_policy
    task_policy         = string # aws_iam_role_policy
    migrate_task_role   = string # aws_iam_role of the migration task
    migrate_task_policy = string # aws_iam_role_policy
    infrastructure_role = string # aws_iam_role ECS assumes for blue/green (created only then)
    # Blue/green only (created only then): the smoke-test lifecycle hook and what it needs.
    smoke_hook_function       = string # aws_lambda_function
    smoke_hook_log_group      = string # aws_cloudwatch_log_group
    smoke_hook_role           = string # aws_iam_role: the function's execution role
    smoke_hook_policy         = string # aws_iam_role_policy
    smoke_hook_security_group = string # aws_security_group
    hook_invoke_role          = string # aws_iam_role ECS assumes to invoke the hook
    hook_invoke_policy        = string # aws_iam_role_policy
    security_group            = string # aws_security_group
    cpu_scaling_policy        = string # aws_appautoscaling_policy
    requests_scaling_policy   = string # aws_appautoscaling_policy
    image_tag_parameter       = string # aws_ssm_parameter
  })

  validation {
    condition = alltrue([
      for n in [var.names.cluster, var.names.service, var.names.task_family] :
      can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$", n))
    ])
    error_message = "names.cluster, names.service and names.task_family: 1-255 letters, digits, '-' or '_'."
  }

  validation {
    condition = alltrue([
      for n in [var.names.app_repository, var.names.proxy_repository] :
      length(n) >= 2 && length(n) <= 256 && can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", n))
    ])
    error_message = "names.app_repository and names.proxy_repository: 2-256 lowercase letters and digits, separated by single '.', '_', '-' or '/'."
  }

  validation {
    condition = alltrue([
      for n in [var.names.app_log_group, var.names.proxy_log_group, var.names.exec_log_group, var.names.smoke_hook_log_group] :
      length(n) <= 512 && can(regex("^/[A-Za-z0-9._/#-]+$", n))
    ])
    error_message = "Log group names: path style ('/system/env/...'), at most 512 of letters, digits, '.', '_', '-', '/', '#'."
  }

  validation {
    condition = alltrue([
      for n in [var.names.execution_role, var.names.task_role, var.names.infrastructure_role, var.names.smoke_hook_role, var.names.hook_invoke_role] :
      can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", n))
    ])
    error_message = "Role names (execution_role, task_role, infrastructure_role, smoke_hook_role, hook_invoke_role): 1-64 letters, digits or '+=,.@_-'."
  }

  validation {
    condition = alltrue([
      for n in [var.names.execution_policy, var.names.task_policy, var.names.smoke_hook_policy, var.names.hook_invoke_policy] :
      can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", n))
    ])
    error_message = "Role policy names (execution_policy, task_policy, smoke_hook_policy, hook_invoke_policy): 1-128 letters, digits or '+=,.@_-'."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,64}$", var.names.smoke_hook_function))
    error_message = "names.smoke_hook_function: 1-64 letters, digits, '-' or '_'."
  }

  validation {
    condition = alltrue([
      for n in [var.names.security_group, var.names.smoke_hook_security_group] :
      length(n) <= 255 && !startswith(lower(n), "sg-")
    ])
    error_message = "names.security_group and names.smoke_hook_security_group: at most 255 characters, not starting with 'sg-'."
  }

  validation {
    condition     = length(var.names.image_tag_parameter) <= 1011 && can(regex("^/[A-Za-z0-9_./-]+$", var.names.image_tag_parameter))
    error_message = "names.image_tag_parameter: a path-style SSM parameter name ('/system/env/...'), at most 1011 of letters, digits, '_', '.', '-', '/'."
  }

  validation {
    condition = alltrue([
      for n in [var.names.cpu_scaling_policy, var.names.requests_scaling_policy] :
      length(n) >= 1 && length(n) <= 256 && !strcontains(n, ":")
    ])
    error_message = "Scaling policy names: 1-256 characters, no ':'."
  }
}

# ---- Network ----

variable "vpc_id" {
  description = "VPC of the tasks' security group."
  type        = string
}

variable "vpc_cidr_block" {
  description = "CIDR block of the VPC: the tasks reach PostgreSQL (5432) and Redis (6379) inside it."
  type        = string

  validation {
    condition     = can(cidrhost(var.vpc_cidr_block, 0))
    error_message = "vpc_cidr_block must be an IPv4 CIDR block such as 10.0.0.0/16."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets of the tasks (no public IP; outbound through NAT)."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.private_subnet_ids) > 0
    error_message = "private_subnet_ids needs at least one subnet."
  }
}

variable "alb_security_group_id" {
  description = "Security group of the ALB: the only source allowed to reach the proxy port."
  type        = string
}

variable "target_group_arn" {
  description = "ALB target group (type ip) that forwards to the proxy container."
  type        = string
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (app/<name>/<id>), for request-count autoscaling."
  type        = string
}

variable "target_group_arn_suffix" {
  description = "ARN suffix of the target group (targetgroup/<name>/<id>), for request-count autoscaling."
  type        = string
}

# ---- Encryption ----

variable "kms_key_arn" {
  description = "Customer-managed KMS key for ECR, CloudWatch Logs, ECS Exec sessions and the app's SecureString parameters."
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

# ---- Container registry ----

variable "ecr_keep_images" {
  description = "Tagged images kept per repository; older ones expire (untagged ones after a day)."
  type        = number
  default     = 20

  validation {
    condition     = var.ecr_keep_images >= 1 && var.ecr_keep_images <= 1000 && floor(var.ecr_keep_images) == var.ecr_keep_images
    error_message = "ecr_keep_images must be a whole number from 1 to 1000."
  }
}

variable "ecr_force_delete" {
  description = "Let `terraform destroy` delete the repositories with their images (dev only)."
  type        = bool
  default     = false
}

variable "bootstrap_image_tag" {
  description = "Placeholder written to the deployed-image parameter by the first apply, before any pipeline run has pushed an image; the pipeline overwrites it and Terraform never writes it again."
  type        = string
  default     = "bootstrap"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.bootstrap_image_tag))
    error_message = "bootstrap_image_tag: 1-128 letters, digits, '_', '.', '-', not starting with '.' or '-'."
  }
}

# ---- Logs ----

variable "log_retention_days" {
  description = "Retention of the app and proxy log groups, in days."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "exec_log_retention_days" {
  description = "Retention of the ECS Exec session log group, in days: who ran what in a container (an audit trail; a year in prod)."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.exec_log_retention_days)
    error_message = "exec_log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_group_class" {
  description = "Log class of the app, proxy and ECS Exec log groups: STANDARD or INFREQUENT_ACCESS (cheaper ingestion, no metric filters or subscriptions)."
  type        = string
  default     = "STANDARD"

  validation {
    condition     = contains(["STANDARD", "INFREQUENT_ACCESS"], var.log_group_class)
    error_message = "log_group_class must be STANDARD or INFREQUENT_ACCESS."
  }
}

# ---- Task definition ----

variable "cpu" {
  description = "Task CPU units (256, 512, 1024, 2048, 4096, 8192 or 16384), shared by the proxy and app containers."
  type        = number

  validation {
    condition     = contains([256, 512, 1024, 2048, 4096, 8192, 16384], var.cpu)
    error_message = "cpu must be one of 256, 512, 1024, 2048, 4096, 8192, 16384."
  }
}

variable "memory" {
  description = "Task memory in MiB; must be a Fargate combination with cpu."
  type        = number

  validation {
    condition = contains(lookup({
      "256"   = [512, 1024, 2048]
      "512"   = range(1024, 4097, 1024)
      "1024"  = range(2048, 8193, 1024)
      "2048"  = range(4096, 16385, 1024)
      "4096"  = range(8192, 30721, 1024)
      "8192"  = range(16384, 61441, 4096)
      "16384" = range(32768, 122881, 8192)
    }, tostring(var.cpu), []), var.memory)
    error_message = "memory must match cpu: 256 -> 512/1024/2048; 512 -> 1024-4096; 1024 -> 2048-8192; 2048 -> 4096-16384; 4096 -> 8192-30720 (steps of 1024); 8192 -> 16384-61440 (steps of 4096); 16384 -> 32768-122880 (steps of 8192)."
  }
}

variable "cpu_architecture" {
  description = "CPU architecture of the tasks (X86_64 or ARM64); the cpu_architecture output hands it to the batch tasks and the image build. Fargate Spot runs both on platform version 1.4.0 or later (ECS API reference, CapacityProviderStrategyItem)."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "app_port" {
  description = "Port gunicorn listens on at 127.0.0.1 inside the task; its liveness listener takes the next one."
  type        = number
  default     = 8000

  validation {
    condition     = var.app_port >= 1024 && var.app_port <= 65534
    error_message = "app_port must be an unprivileged port (1024-65534): the next port is gunicorn's liveness listener."
  }
}

variable "proxy_port" {
  description = "Port the unprivileged nginx proxy listens on; the ALB target group sends here."
  type        = number
  default     = 8080

  validation {
    condition     = var.proxy_port >= 1024 && var.proxy_port <= 65535 && !contains([var.app_port, var.app_port + 1], var.proxy_port)
    error_message = "proxy_port must be an unprivileged port (1024-65535) other than app_port and app_port + 1."
  }
}

variable "environment" {
  description = "Plain environment variables of the app container (never secrets: use `secrets`)."
  type        = map(string)
  nullable    = false
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "environment keys must be variable names: letters, digits and '_', not starting with a digit."
  }

  validation {
    # A key ending in _ARN names where a secret lives (the app fetches it itself), not the secret.
    condition     = alltrue([for k in keys(var.environment) : !can(regex("(?i)(SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|CREDENTIAL)", k)) || endswith(k, "_ARN")])
    error_message = "environment must not carry secrets (a key contains SECRET, PASSWORD, PASSWD, TOKEN, PRIVATE_KEY, API_KEY or CREDENTIAL and does not end in _ARN): pass them through `secrets`."
  }
}

variable "secrets" {
  description = "Secrets of the app container by variable name: an SSM parameter ARN, or a Secrets Manager secret ARN with an optional JSON key. ECS injects them at start; only their ARNs reach the state."
  type = map(object({
    arn      = string
    json_key = optional(string)
  }))
  nullable = false
  default  = {}

  validation {
    condition     = alltrue([for k in keys(var.secrets) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k))])
    error_message = "secrets keys must be variable names: letters, digits and '_', not starting with a digit."
  }

  validation {
    condition = alltrue([
      for s in values(var.secrets) :
      can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/.+$", s.arn)) ||
      can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", s.arn))
    ])
    error_message = "Every secrets[*].arn must be an SSM parameter ARN (arn:aws:ssm:<region>:<account>:parameter/...) or a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:...)."
  }

  validation {
    condition = alltrue([
      for s in values(var.secrets) :
      s.json_key == null || can(regex("^arn:aws[a-z-]*:secretsmanager:", s.arn))
    ])
    error_message = "secrets[*].json_key is only allowed with a Secrets Manager secret ARN."
  }

  validation {
    condition     = length(setintersection(keys(var.secrets), keys(var.environment))) == 0
    error_message = "A variable name may be in environment or in secrets, not both."
  }
}

variable "migration_secret_arns" {
  description = "Secrets Manager secret ARNs only the migration task reads (its own task role), at run time: the RDS-managed master credentials, which rotate."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.migration_secret_arns) > 0 && alltrue([for a in var.migration_secret_arns : can(regex("^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$", a))])
    error_message = "migration_secret_arns: at least one Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)."
  }
}

variable "database_connect_arns" {
  description = "rds-db:connect resources the app's task role may connect as (IAM database authentication): the app's own database user, arn:aws:rds-db:REGION:ACCOUNT:dbuser:DBI_RESOURCE_ID/USER."
  type        = list(string)
  nullable    = false
  default     = []

  validation {
    condition     = alltrue([for a in var.database_connect_arns : can(regex("^arn:aws[a-z-]*:rds-db:[a-z0-9-]+:[0-9]{12}:dbuser:[^/*]+/[^/*]+$", a))])
    error_message = "database_connect_arns: rds-db dbuser ARNs naming one resource ID and one user, without wildcards (arn:aws:rds-db:<region>:<account>:dbuser:<resource id>/<user>)."
  }
}

variable "cache_connect_arns" {
  description = "elasticache:Connect resources of the app's task role (IAM authentication to the cache): the replication group and the app's cache user."
  type        = list(string)
  nullable    = false
  default     = []

  validation {
    condition     = alltrue([for a in var.cache_connect_arns : can(regex("^arn:aws[a-z-]*:elasticache:[a-z0-9-]+:[0-9]{12}:(replicationgroup|user):[^*]+$", a))])
    error_message = "cache_connect_arns: ElastiCache replication group or user ARNs without wildcards (arn:aws:elasticache:<region>:<account>:replicationgroup:<id> or ...:user:<id>)."
  }
}

variable "additional_log_group_arns" {
  description = "Other log groups written by task definitions that share this execution role (the batch module's), without ':*'."
  type        = list(string)
  nullable    = false
  default     = []

  validation {
    condition     = alltrue([for a in var.additional_log_group_arns : can(regex("^arn:aws[a-z-]*:logs:[a-z0-9-]+:[0-9]{12}:log-group:[^:*]+$", a))])
    error_message = "additional_log_group_arns: log group ARNs (arn:aws:logs:<region>:<account>:log-group:<name>) without a trailing ':*'."
  }
}

# ---- Service ----

variable "desired_count" {
  description = "Tasks at creation; afterwards autoscaling owns the count (Terraform ignores drift)."
  type        = number

  validation {
    condition     = var.desired_count >= var.min_capacity && var.desired_count <= var.max_capacity
    error_message = "desired_count must lie between min_capacity and max_capacity."
  }
}

variable "fargate_spot_weight" {
  description = "Relative weight of FARGATE_SPOT against FARGATE (weight 1) beyond the on-demand base; 0 runs on-demand only."
  type        = number
  default     = 0

  validation {
    condition     = var.fargate_spot_weight >= 0 && var.fargate_spot_weight <= 1000 && floor(var.fargate_spot_weight) == var.fargate_spot_weight
    error_message = "fargate_spot_weight must be a whole number from 0 to 1000."
  }
}

variable "fargate_base" {
  description = "Tasks always placed on on-demand FARGATE before the weights apply (0 lets a Spot-weighted service run entirely on Spot)."
  type        = number
  default     = 1

  validation {
    condition     = var.fargate_base >= 0 && var.fargate_base <= 100000 && floor(var.fargate_base) == var.fargate_base
    error_message = "fargate_base must be a whole number from 0 to 100000."
  }
}

variable "deployment_alarm_names" {
  description = "CloudWatch alarms that fail a deployment and roll it back when they go to ALARM (the monitoring module's deployment_alarm_names); empty: the circuit breaker alone."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for n in var.deployment_alarm_names : length(n) >= 1 && length(n) <= 255])
    error_message = "deployment_alarm_names: alarm names of 1-255 characters."
  }
}

variable "deployment_strategy" {
  description = "How a new revision replaces the running one: ROLLING (tasks replaced in place) or BLUE_GREEN (the new revision beside the old, test traffic first, then all production traffic at once, the old kept for bake_time_minutes; needs blue_green)."
  type        = string
  default     = "ROLLING"
  nullable    = false

  validation {
    condition     = contains(["ROLLING", "BLUE_GREEN"], var.deployment_strategy)
    error_message = "deployment_strategy must be ROLLING or BLUE_GREEN."
  }

  validation {
    condition     = (var.deployment_strategy == "BLUE_GREEN") == (var.blue_green != null)
    error_message = "blue_green (the proxy_server module's alternate target group and listener rules) is required with deployment_strategy BLUE_GREEN and must be null with ROLLING."
  }
}

variable "bake_time_minutes" {
  description = "BLUE_GREEN only: minutes the old revision keeps running after production traffic moved to the new one; a rollback in that window (alarm, StopServiceDeployment) moves traffic back at once."
  type        = number
  default     = 10
  nullable    = false

  validation {
    condition     = var.bake_time_minutes >= 0 && var.bake_time_minutes <= 1440 && floor(var.bake_time_minutes) == var.bake_time_minutes
    error_message = "bake_time_minutes must be a whole number of minutes from 0 to 1440."
  }
}

variable "blue_green" {
  description = "BLUE_GREEN only (null otherwise): the proxy_server module's alternate target group, production and test listener rules, the test listener's port and URL (the tasks' and the smoke hook's security groups let the smoke tests reach it), and the smoke hook's package: the zip of deploy/smoke_hook.py that render.py writes into the root, and the function's timeout (deploy/smoke_hook.py's FUNCTION_TIMEOUT_SECONDS)."
  type = object({
    alternate_target_group_arn   = string
    production_listener_rule_arn = string
    test_listener_rule_arn       = string
    test_port                    = number
    test_url                     = string
    smoke_hook_package           = string
    smoke_hook_timeout           = number
  })
  default = null

  validation {
    condition     = var.blue_green == null || can(regex("^https?://[^/]+$", var.blue_green.test_url))
    error_message = "blue_green.test_url: the test listener's base URL, https://<host>[:<port>], no path."
  }

  validation {
    # A conditional, not ||: Terraform evaluates both sides of || (an attribute of null is an error).
    condition     = var.blue_green == null ? true : (var.blue_green.smoke_hook_timeout >= 1 && var.blue_green.smoke_hook_timeout <= 900 && floor(var.blue_green.smoke_hook_timeout) == var.blue_green.smoke_hook_timeout)
    error_message = "blue_green.smoke_hook_timeout: a Lambda timeout, a whole number of seconds from 1 to 900."
  }
}

variable "health_check_grace_period" {
  description = "Seconds the service ignores failing ALB health checks after a task starts."
  type        = number
  default     = 60

  validation {
    condition     = var.health_check_grace_period >= 0 && var.health_check_grace_period <= 2147483647
    error_message = "health_check_grace_period must be 0 or more seconds."
  }
}

# ---- Autoscaling ----

variable "min_capacity" {
  description = "Fewest tasks autoscaling keeps."
  type        = number

  validation {
    condition     = var.min_capacity >= 1 && floor(var.min_capacity) == var.min_capacity
    error_message = "min_capacity must be a whole number of at least 1."
  }
}

variable "max_capacity" {
  description = "Most tasks autoscaling starts."
  type        = number

  validation {
    condition     = var.max_capacity >= var.min_capacity && floor(var.max_capacity) == var.max_capacity
    error_message = "max_capacity must be a whole number not below min_capacity."
  }
}

variable "cpu_target" {
  description = "Target average CPU utilisation of the service, in percent."
  type        = number
  default     = 60

  validation {
    condition     = var.cpu_target >= 10 && var.cpu_target <= 90
    error_message = "cpu_target must be from 10 to 90 (percent)."
  }
}

variable "requests_per_target" {
  description = "Target ALB requests per task per minute."
  type        = number
  default     = 1000

  validation {
    condition     = var.requests_per_target >= 1
    error_message = "requests_per_target must be at least 1."
  }
}
