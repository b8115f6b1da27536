variable "names" {
  description = "AWS names computed by the renderer, used literally."
  type = object({
    connection      = string
    pipeline        = string
    artifact_bucket = string
    test_project    = string
    build_project   = string
    deploy_project  = string
    build_log_group = string
    pipeline_role   = string
    test_role       = string
    build_role      = string
    deploy_role     = string
    pipeline_policy = string
    test_policy     = string
    build_policy    = string
    deploy_policy   = string
  })

  validation {
    condition     = length(var.names.connection) >= 1 && length(var.names.connection) <= 32
    error_message = "names.connection must be 1 to 32 characters (CodeStar connection name limit)."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9.@_-]{1,100}$", var.names.pipeline))
    error_message = "names.pipeline must be 1 to 100 characters of [A-Za-z0-9.@_-]."
  }

  validation {
    condition = alltrue([
      for name in [var.names.test_project, var.names.build_project, var.names.deploy_project] : can(regex("^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$", name))
    ])
    error_message = "names.test_project, names.build_project and names.deploy_project must be 2 to 255 characters of [A-Za-z0-9_-], starting with a letter or digit."
  }

  validation {
    condition     = can(regex("^[A-Za-z0-9_./#-]{1,512}$", var.names.build_log_group))
    error_message = "names.build_log_group must be 1 to 512 characters of [A-Za-z0-9_./#-]."
  }

  validation {
    condition = alltrue([
      for name in [var.names.pipeline_role, var.names.test_role, var.names.build_role, var.names.deploy_role] : can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", name))
    ])
    error_message = "names.pipeline_role, names.test_role, names.build_role and names.deploy_role must be 1 to 64 characters of [A-Za-z0-9+=,.@_-]."
  }

  validation {
    condition = alltrue([
      for name in [var.names.pipeline_policy, var.names.test_policy, var.names.build_policy, var.names.deploy_policy] : can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", name))
    ])
    error_message = "names.pipeline_policy, names.test_policy, names.build_policy and names.deploy_policy must be 1 to 128 characters of [A-Za-z0-9+=,.@_-]."
  }
}

variable "kms_key_arn" {
  description = "ARN of the environment's customer-managed KMS key (a key ARN, not an alias): encrypts the artifacts, the build output and the build log group."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); an alias ARN does not work in IAM policies."
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

# ---- Source connection ----

variable "repository" {
  description = "GitHub repository the pipeline builds, as \"owner/name\"."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$", var.repository))
    error_message = "repository must be \"owner/name\" as on GitHub (e.g. \"example-org/django-todo\")."
  }
}

variable "branch" {
  description = "Branch whose pushes start the pipeline."
  type        = string
  default     = "main"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]{1,255}$", var.branch)) && !startswith(var.branch, "/") && !endswith(var.branch, "/")
    error_message = "branch must be a plain branch name of [A-Za-z0-9._/-] (no wildcards, no leading or trailing \"/\")."
  }
}

# ---- Artifact bucket ----

variable "artifact_expiration_days" {
  description = "Days to keep pipeline artifacts (and their noncurrent versions) in the artifact bucket."
  type        = number
  default     = 30

  validation {
    condition     = var.artifact_expiration_days >= 1 && floor(var.artifact_expiration_days) == var.artifact_expiration_days
    error_message = "artifact_expiration_days must be a whole number of at least 1."
  }
}

variable "artifact_bucket_force_destroy" {
  description = "Allow destroying the artifact bucket while it still holds artifacts (true for short-lived environments)."
  type        = bool
  default     = false
  nullable    = false
}

# ---- Build project ----

variable "cpu_architecture" {
  description = "CPU architecture of the ECS tasks (the ecs module's output): the image build runs on CodeBuild of this architecture, so the images it pushes can run in them."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

variable "build_timeout" {
  description = "Minutes before CodeBuild stops the test build or the image build. The release build's timeout follows from migrate_timeout and deploy_timeout (migrate_timeout + 2 x deploy_timeout + 10), so it is never stopped before its rollback."
  type        = number
  default     = 30

  validation {
    condition     = var.build_timeout >= 5 && var.build_timeout <= 2160 && floor(var.build_timeout) == var.build_timeout
    error_message = "build_timeout must be a whole number of minutes from 5 to 2160."
  }
}

variable "log_retention_days" {
  description = "Days CloudWatch Logs keeps the build logs."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "app_repository_url" {
  description = "ECR repository URL of the app image (the build pushes <url>:<commit SHA>)."
  type        = string
}

variable "proxy_repository_url" {
  description = "ECR repository URL of the proxy (nginx) image."
  type        = string
}

variable "app_repository_arn" {
  description = "ARN of the app ECR repository (the build may push and pull only there and in the proxy repository)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:", var.app_repository_arn))
    error_message = "app_repository_arn must be an ECR repository ARN (arn:aws:ecr:...)."
  }
}

variable "proxy_repository_arn" {
  description = "ARN of the proxy ECR repository."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:", var.proxy_repository_arn))
    error_message = "proxy_repository_arn must be an ECR repository ARN (arn:aws:ecr:...)."
  }
}

variable "service_task_family" {
  description = "Task definition family of the service; the deploy program registers a copy of its latest revision with the new images."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.service_task_family))
    error_message = "service_task_family must be 1 to 255 characters of [A-Za-z0-9_-]."
  }
}

variable "image_tag_parameter_name" {
  description = "Name of the SSM parameter holding the deployed image tag (ecs module): the deploy program writes it once the migration succeeded."
  type        = string

  validation {
    condition     = startswith(var.image_tag_parameter_name, "/")
    error_message = "image_tag_parameter_name must be a path-style parameter name (\"/system/env/...\")."
  }
}

variable "image_tag_parameter_arn" {
  description = "ARN of that parameter (the deploy role may read and write only it)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter/", var.image_tag_parameter_arn))
    error_message = "image_tag_parameter_arn must be an SSM parameter ARN."
  }
}

variable "migrate_task_family" {
  description = "Task definition family of the one-off migration task; the deploy program registers a revision with the new image and runs it before the rollout."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,255}$", var.migrate_task_family))
    error_message = "migrate_task_family must be 1 to 255 characters of [A-Za-z0-9_-]."
  }
}

variable "batch_task_families" {
  description = "Task definition families of the scheduled batch tasks; the deploy program registers a revision of each with the new image after the rollout."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for family in var.batch_task_families : can(regex("^[A-Za-z0-9_-]{1,255}$", family))])
    error_message = "Each batch task family must be 1 to 255 characters of [A-Za-z0-9_-]."
  }
}

variable "private_subnet_ids" {
  description = "Private subnets the migration task runs in."
  type        = list(string)
  nullable    = false

  validation {
    condition     = length(var.private_subnet_ids) > 0
    error_message = "private_subnet_ids must list at least one subnet."
  }
}

variable "security_group_id" {
  description = "Security group of the migration task (the app tasks' group, which the database and cache accept)."
  type        = string
}

# ---- Pipeline ----

variable "cluster_name" {
  description = "Name of the ECS cluster that runs the service and the migration task."
  type        = string
}

variable "cluster_arn" {
  description = "ARN of the ECS cluster (scopes ecs:RunTask and ecs:ListTasks)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/", var.cluster_arn))
    error_message = "cluster_arn must be an ECS cluster ARN (arn:aws:ecs:<region>:<account>:cluster/<name>)."
  }
}

variable "service_name" {
  description = "Name of the ECS service the pipeline deploys."
  type        = string
}

variable "execution_role_arn" {
  description = "ARN of the task execution role of the app task definitions (the pipeline and the build may pass only this role and task_role_arn, only to ECS tasks)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.execution_role_arn))
    error_message = "execution_role_arn must be an IAM role ARN."
  }
}

variable "task_role_arn" {
  description = "ARN of the task role of the app task definitions."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.task_role_arn))
    error_message = "task_role_arn must be an IAM role ARN."
  }
}

variable "migrate_task_role_arn" {
  description = "ARN of the migration task's own role (it reads the database's master credentials); the deploy role passes it when it registers and runs the migration."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", var.migrate_task_role_arn))
    error_message = "migrate_task_role_arn must be an IAM role ARN."
  }
}

variable "migrate_timeout" {
  description = "Minutes the deploy program waits for the migration task to stop before it stops the task and fails the release."
  type        = number
  default     = 30

  validation {
    condition     = var.migrate_timeout >= 1 && var.migrate_timeout <= 240 && floor(var.migrate_timeout) == var.migrate_timeout
    error_message = "migrate_timeout must be a whole number of minutes from 1 to 240."
  }
}

variable "deploy_timeout" {
  description = "Minutes the deploy program waits for ECS to report the service deployment COMPLETED before it rolls back and fails the release; it waits as long again for the rollback."
  type        = number
  default     = 30

  validation {
    condition     = var.deploy_timeout >= 1 && var.deploy_timeout <= 60 && floor(var.deploy_timeout) == var.deploy_timeout
    error_message = "deploy_timeout must be a whole number of minutes from 1 to 60."
  }
}

variable "bake_time_minutes" {
  description = "Blue/green services: minutes ECS keeps the old revision after production traffic moved (the ecs module's bake_time_minutes), added to the release's time limit; 0 for rolling."
  type        = number
  default     = 0
  nullable    = false

  validation {
    condition     = var.bake_time_minutes >= 0 && var.bake_time_minutes <= 1440 && floor(var.bake_time_minutes) == var.bake_time_minutes
    error_message = "bake_time_minutes must be a whole number of minutes from 0 to 1440."
  }
}

variable "smoke_test_url" {
  description = "Blue/green services: base URL of the load balancer's test listener (the proxy_server module's test_url), which the release smoke-tests before production traffic moves; null for rolling."
  type        = string
  default     = null

  validation {
    condition     = var.smoke_test_url == null || can(regex("^https://[a-z0-9.-]+(:[0-9]+)?$", var.smoke_test_url))
    error_message = "smoke_test_url must be https://<host>[:<port>] without a path."
  }
}

# ---- Approval ----

variable "manual_approval" {
  description = "Stop each release for a person's approval after the images are built and before the migration and rollout."
  type        = bool
  default     = false
  nullable    = false
}

variable "approval_topic_arn" {
  description = "SNS topic that tells approvers a release is waiting (needed with manual_approval); the pipeline's role publishes to it."
  type        = string
  default     = null

  validation {
    condition     = var.approval_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.approval_topic_arn))
    error_message = "approval_topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)."
  }
}
