variable "region" {
  description = "AWS region of the state bucket and its KMS key."
  type        = string
  default     = "ap-northeast-1"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as ap-northeast-1."
  }
}

variable "allowed_account_id" {
  description = "The only AWS account this root may touch (12 digits); any other credentials make the provider refuse to run."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{12}$", var.allowed_account_id))
    error_message = "allowed_account_id must be exactly 12 digits."
  }
}

variable "system" {
  description = "System label, written to the System tag of every resource."
  type        = string
  default     = "todo"
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.system))
    error_message = "system must be lowercase letters and digits only."
  }
}

variable "state_bucket_name" {
  description = "Globally unique name of the remote-state bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "kms_alias" {
  description = "Alias of the KMS key that encrypts the state bucket, e.g. alias/todo-shared-state."
  type        = string

  validation {
    condition     = can(regex("^alias/[a-zA-Z0-9/_-]+$", var.kms_alias)) && !startswith(var.kms_alias, "alias/aws/")
    error_message = "kms_alias must start with alias/ followed by letters, digits, /, _ or -, and must not start with alias/aws/ (reserved for AWS managed keys)."
  }
}

# ---- GitHub Actions (github_oidc.tf) ----

variable "github_environments" {
  description = "Per environment (the GitHub environment of the same name): the GitHub repository (OWNER/NAME, as GitHub spells it: subjects compare case-sensitively) and the branch whose pushes apply it. From codepipeline.repository and codepipeline.branch of each environment's YAML."
  type = map(object({
    repository = string
    branch     = string
  }))
  nullable = false

  validation {
    condition     = length(var.github_environments) > 0 && alltrue([for env in keys(var.github_environments) : can(regex("^[a-z0-9]+$", env))])
    error_message = "github_environments needs at least one environment, each named by lowercase letters and digits (the env label)."
  }

  validation {
    condition     = alltrue([for d in values(var.github_environments) : can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", d.repository))])
    error_message = "Each repository must be OWNER/NAME (letters, digits, '.', '_', '-')."
  }

  # A wildcard or a colon in a branch would widen the apply role's exact subjects.
  validation {
    condition     = alltrue([for d in values(var.github_environments) : can(regex("^[A-Za-z0-9._/-]+$", d.branch)) && !startswith(d.branch, "refs/")])
    error_message = "Each branch must be a plain branch name (letters, digits, '.', '_', '/', '-'; no wildcard, no colon, no refs/ prefix)."
  }
}

variable "github_oidc_provider_arn" {
  description = "ARN of an IAM OIDC provider for token.actions.githubusercontent.com that already exists in the account (an account holds one per URL); null creates it."
  type        = string
  default     = null

  validation {
    condition     = var.github_oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.github_oidc_provider_arn))
    error_message = "github_oidc_provider_arn must be the ARN of the oidc-provider/token.actions.githubusercontent.com, or null."
  }
}

variable "github_plan_role_name" {
  description = "Name of the read-only role that pull requests' terraform plan assumes."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.github_plan_role_name))
    error_message = "github_plan_role_name must be 1-64 of letters, digits and +=,.@_-."
  }
}

variable "github_apply_role_name" {
  description = "Name of the role that terraform apply assumes on a push to an environment's branch."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.github_apply_role_name))
    error_message = "github_apply_role_name must be 1-64 of letters, digits and +=,.@_-."
  }
}

variable "github_plan_policy_name" {
  description = "Name of the plan role's inline policy (reading the state)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.github_plan_policy_name))
    error_message = "github_plan_policy_name must be 1-128 of letters, digits and +=,.@_-."
  }
}

variable "github_apply_policy_name" {
  description = "Name of the apply role's inline policy (IAM on the environments' roles)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,128}$", var.github_apply_policy_name))
    error_message = "github_apply_policy_name must be 1-128 of letters, digits and +=,.@_-."
  }
}
