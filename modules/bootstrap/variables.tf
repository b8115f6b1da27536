# ---- The environment and its state ----

variable "system" {
  description = "System label: the first segment of every name, and the System tag."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.system))
    error_message = "system must be lowercase letters and digits only."
  }
}

variable "env" {
  description = "Environment label (dev, stg, prod): the second segment of every name of the environment."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.env))
    error_message = "env must be lowercase letters and digits only."
  }
}

variable "region" {
  description = "AWS region of the state bucket and its KMS key (the provider's region)."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as ap-northeast-1."
  }
}

variable "state_bucket_name" {
  description = "Globally unique name of the environment's remote-state bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "kms_alias" {
  description = "Alias of the KMS key that encrypts the state bucket, e.g. alias/todo-dev-ops-tfstate-main-kms."
  type        = string

  validation {
    condition     = can(regex("^alias/[a-zA-Z0-9/_-]+$", var.kms_alias)) && !startswith(var.kms_alias, "alias/aws/")
    error_message = "kms_alias must start with alias/ followed by letters, digits, /, _ or -, and must not start with alias/aws/ (reserved for AWS managed keys)."
  }
}

# ---- GitHub Actions (github_oidc.tf, ci_policies.tf) ----

variable "github_repository" {
  description = "The GitHub repository (OWNER/NAME, as GitHub spells it: subjects compare case-sensitively) whose workflows plan and apply this environment."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be OWNER/NAME (letters, digits, '.', '_', '-')."
  }
}

variable "github_branch" {
  description = "The branch whose pushes apply this environment (codepipeline.branch of its YAML)."
  type        = string

  # A wildcard or a colon in a branch would widen the apply role's exact subject.
  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.github_branch)) && !startswith(var.github_branch, "refs/")
    error_message = "github_branch must be a plain branch name (letters, digits, '.', '_', '/', '-'; no wildcard, no colon, no refs/ prefix)."
  }
}

variable "github_oidc_provider_arn" {
  description = "ARN of the account's IAM OIDC provider for token.actions.githubusercontent.com when another root created it (an account holds one per URL); null creates it here."
  type        = string
  default     = null

  validation {
    condition     = var.github_oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.github_oidc_provider_arn))
    error_message = "github_oidc_provider_arn must be the ARN of the oidc-provider/token.actions.githubusercontent.com, or null."
  }
}

variable "github_plan_role_name" {
  description = "Name of the read-only role that pull requests' terraform plan of this environment assumes."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.github_plan_role_name))
    error_message = "github_plan_role_name must be 1-64 of letters, digits and +=,.@_-."
  }
}

variable "github_apply_role_name" {
  description = "Name of the role that terraform apply of this environment assumes on a push to its branch."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.github_apply_role_name))
    error_message = "github_apply_role_name must be 1-64 of letters, digits and +=,.@_-."
  }
}

variable "github_plan_policy_name" {
  description = "Name of the plan role's inline policy (reading the state; the guards)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.github_plan_policy_name))
    error_message = "github_plan_policy_name must be 1-128 of letters, digits and +=,.@_-."
  }
}

variable "github_apply_policy_name" {
  description = "Name of the apply role's inline policy (IAM under the boundary; the guards)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.github_apply_policy_name))
    error_message = "github_apply_policy_name must be 1-128 of letters, digits and +=,.@_-."
  }
}

variable "apply_max_session_seconds" {
  description = "Longest session of the apply role, in seconds: at least the apply job's timeout (a first prod apply or a destroy with a final snapshot can pass an hour, and OIDC credentials cannot be refreshed). The workflow asks for the same duration."
  type        = number
  default     = 7200

  validation {
    condition     = var.apply_max_session_seconds >= 3600 && var.apply_max_session_seconds <= 43200
    error_message = "apply_max_session_seconds must be between 3600 and 43200 (IAM's limits for a role's maximum session)."
  }
}

# ---- Permissions boundary (boundary.tf) ----

variable "role_boundary_policy_name" {
  description = "Name of the managed policy that bounds every role the environment root creates."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.role_boundary_policy_name))
    error_message = "role_boundary_policy_name must be 1-128 of letters, digits and +=,.@_-."
  }
}

# ---- A shared account (ci_policies.tf) ----

variable "account_peers" {
  description = "The other environments in this AWS account (empty with one account per environment, the default). Their resources, named {system}-{peer}-... or tagged Env = peer, are denied to this environment's CI roles and workload roles."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for peer in var.account_peers : can(regex("^[a-z0-9]+$", peer))])
    error_message = "account_peers must be environment labels (lowercase letters and digits)."
  }
}

# ---- Once per account (service_linked_roles.tf) ----

variable "service_linked_roles" {
  description = "Service-linked roles to create, as service principal => role name (the name AWS gives it, used to find one that exists). Only the first environment of an account creates them; the others pass {}."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "lambda_roles" {
  description = "Names of the environment's roles the apply role may pass to Lambda (blue/green: the smoke-test hook's execution role); no other role is passed to Lambda."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for name in var.lambda_roles : startswith(name, "${var.system}-${var.env}-")])
    error_message = "lambda_roles must name roles of this environment ({system}-{env}-...)."
  }
}

variable "pass_roles_without_service" {
  description = "Names of the environment's roles whose service documents no iam:PassedToService value (the flow-log role, the RDS monitoring role): the apply role may pass these exact roles without that condition."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for name in var.pass_roles_without_service : startswith(name, "${var.system}-${var.env}-")])
    error_message = "pass_roles_without_service must name roles of this environment ({system}-{env}-...)."
  }
}
