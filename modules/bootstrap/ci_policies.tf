# What the two CI roles of the environment may do. Each statement's condition keys are those the
# IAM documentation gives for the action (Service Authorization Reference, "Actions, resources,
# and condition keys for AWS Identity and Access Management"); the pattern is the delegation
# example of the IAM User Guide, "Permissions boundaries for IAM entities" (statements
# CreateOrChangeOnlyWithBoundary, NoBoundaryPolicyEdit, NoBoundaryUserDelete).

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  iam_prefix = "arn:${local.partition}:iam::${local.account_id}"

  # Every role the environment root creates is named "{system}-{env}-..." (naming.yaml).
  environment_roles = "${local.iam_prefix}:role/${var.system}-${var.env}-*"
  boundary_arn      = "${local.iam_prefix}:policy/${var.role_boundary_policy_name}"

  # What the bootstrap owns and no CI role may change: itself, the boundary, the way in.
  bootstrap_identities = [
    aws_iam_role.github_plan.arn,
    aws_iam_role.github_apply.arn,
    local.boundary_arn,
    local.github_oidc_provider_arn,
  ]

  managed_policy_prefix = "arn:${local.partition}:iam::aws:policy"

  # Services the environment's roles are passed to, each the service principal its role trusts
  # ("Grant a user permissions to pass a role to an AWS service": iam:PassedToService): ECS task
  # definitions (execution, task and migration roles), EventBridge Scheduler schedules, CodeBuild
  # projects and the pipeline, and AWS Backup (a backup selection names the role AWS Backup
  # assumes: CreateBackupSelection needs iam:PassRole on it, modules/backup), and the ECS service
  # itself (a blue/green service names the infrastructure role ECS moves its listener rules as,
  # and the role ECS invokes its smoke-test hook as, modules/ecs). Lambda is not among them: only
  # the hook function's own execution role may be passed to it (PassHookRoleToLambda below).
  passed_to_services = [
    "backup.amazonaws.com",
    "codebuild.amazonaws.com",
    "codepipeline.amazonaws.com",
    "ecs-tasks.amazonaws.com",
    "ecs.amazonaws.com",
    "scheduler.amazonaws.com",
  ]
}

# ---- A shared account: the other environments are out of reach ----

# With one account per environment (the default) there is nothing here: the account is the wall.
# In a shared account, every CI and workload role of this environment is denied the resources of
# the others, found two ways: by name ("{system}-{peer}-..." and the path form
# "/{system}/{peer}/...", naming.yaml) and by the Env tag every resource carries (default_tags),
# for the actions whose service supports aws:ResourceTag / aws:RequestTag. Resources known only
# by a generated id and not tagged at the call are NOT covered (docs/accounts.md).
locals {
  # The ARN prefix of each service whose resources carry names. IAM takes neither a region nor a
  # resource that does not start with its type ("role/", "policy/"), and S3 bucket ARNs have no
  # region or account.
  guarded_prefixes = concat(
    ["arn:${local.partition}:s3:::"],
    [for service in [
      "application-autoscaling", "cloudwatch", "codebuild", "codepipeline", "ec2", "ecr", "ecs",
      "elasticache", "elasticloadbalancing", "events", "kms", "lambda", "logs", "rds", "scheduler",
      "secretsmanager", "sns", "sqs", "ssm",
    ] : "arn:${local.partition}:${service}:*:${local.account_id}:"],
  )
  peer_resources = flatten([
    for peer in var.account_peers : concat(
      ["${local.iam_prefix}:role/${var.system}-${peer}-*", "${local.iam_prefix}:policy/${var.system}-${peer}-*"],
      [for prefix in local.guarded_prefixes : "${prefix}*${var.system}-${peer}-*"],
      [for prefix in local.guarded_prefixes : "${prefix}*/${var.system}/${peer}/*"],
    )
  ])
}

data "aws_iam_policy_document" "peer_guard" {
  dynamic "statement" {
    for_each = length(var.account_peers) > 0 ? [1] : []
    content {
      sid       = "DenyOtherEnvironmentsByName"
      effect    = "Deny"
      actions   = ["*"]
      resources = local.peer_resources
    }
  }

  dynamic "statement" {
    for_each = length(var.account_peers) > 0 ? [1] : []
    content {
      sid       = "DenyOtherEnvironmentsByTag"
      effect    = "Deny"
      actions   = ["*"]
      resources = ["*"]

      condition {
        test     = "StringEquals"
        variable = "aws:ResourceTag/Env"
        values   = var.account_peers
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.account_peers) > 0 ? [1] : []
    content {
      sid       = "DenyTaggingAsOtherEnvironments"
      effect    = "Deny"
      actions   = ["*"]
      resources = ["*"]

      condition {
        test     = "StringEquals"
        variable = "aws:RequestTag/Env"
        values   = var.account_peers
      }
    }
  }
}

# ---- Plan role: reads, never writes ----

# ReadOnlyAccess reads every resource a plan refreshes; it grants no kms:Decrypt, so it cannot
# read SecureString parameters, secrets or another environment's state. The statements below
# add this environment's state alone.
resource "aws_iam_role_policy_attachment" "github_plan_read_only" {
  role       = aws_iam_role.github_plan.name
  policy_arn = "${local.managed_policy_prefix}/ReadOnlyAccess"
}

data "aws_iam_policy_document" "github_plan" {
  source_policy_documents = [data.aws_iam_policy_document.peer_guard.json]

  statement {
    sid       = "ReadState"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${module.state_bucket.arn}/*"]
  }

  statement {
    sid       = "ListState"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [module.state_bucket.arn]
  }

  # The state objects are SSE-KMS: reading them takes kms:Decrypt on their key, and only it.
  statement {
    sid       = "DecryptState"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.state.arn]
  }

  # A plan opens the ssm module's ephemeral aws_secretsmanager_random_password, which calls
  # GetRandomPassword: it reads no secret, and takes no resource ("*" is its only form in the
  # Secrets Manager service authorization reference).
  statement {
    sid       = "EphemeralRandomPassword"
    effect    = "Allow"
    actions   = ["secretsmanager:GetRandomPassword"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "github_plan" {
  name   = var.github_plan_policy_name
  role   = aws_iam_role.github_plan.id
  policy = data.aws_iam_policy_document.github_plan.json
}

# ---- Apply role: this environment, and no way to widen its own rights ----

# PowerUserAccess: every service except IAM, Organizations and Account management (it keeps
# iam:CreateServiceLinkedRole and iam:ListRoles). IAM comes only from the policy below.
resource "aws_iam_role_policy_attachment" "github_apply_power_user" {
  role       = aws_iam_role.github_apply.name
  policy_arn = "${local.managed_policy_prefix}/PowerUserAccess"
}

data "aws_iam_policy_document" "github_apply" {
  source_policy_documents = [data.aws_iam_policy_document.peer_guard.json]

  # Create a role, or change its inline policies or its boundary, only when the role carries
  # (or is being given) this environment's boundary. iam:PermissionsBoundary is a condition key
  # of CreateRole, PutRolePolicy, DeleteRolePolicy and PutRolePermissionsBoundary (Service
  # Authorization Reference, IAM): on CreateRole and PutRolePermissionsBoundary it is the
  # boundary in the request, on the others the boundary the role already has. A role created
  # without it, or an inline policy put on a role without it, is refused.
  statement {
    sid    = "ManageRolesUnderTheBoundary"
    effect = "Allow"
    actions = [
      "iam:CreateRole",
      "iam:DeleteRolePolicy",
      "iam:PutRolePermissionsBoundary",
      "iam:PutRolePolicy",
    ]
    resources = [local.environment_roles]

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arn]
    }
  }

  # Managed policies: only AWS's service-role policies (RDS enhanced monitoring) and the one
  # AWS policy of ECS's blue/green infrastructure role (modules/ecs), and only on a role under
  # the boundary (AttachRolePolicy and DetachRolePolicy take both keys).
  statement {
    sid       = "AttachServiceRolePoliciesUnderTheBoundary"
    effect    = "Allow"
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = [local.environment_roles]

    condition {
      test     = "StringEquals"
      variable = "iam:PermissionsBoundary"
      values   = [local.boundary_arn]
    }

    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values = [
        "${local.managed_policy_prefix}/service-role/*",
        "${local.managed_policy_prefix}/AmazonECSInfrastructureRolePolicyForLoadBalancers",
      ]
    }
  }

  # Reading and the rest of a role's life. None of these changes what a role may do: its trust
  # only says who may assume it, and the boundary still caps it.
  statement {
    sid    = "ReadAndMaintainEnvironmentRoles"
    effect = "Allow"
    actions = [
      "iam:DeleteRole",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRolePolicies",
      "iam:ListRoleTags",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = [local.environment_roles]
  }

  # The boundary itself is read when a role is created with it; nothing may change it.
  statement {
    sid       = "ReadTheBoundary"
    effect    = "Allow"
    actions   = ["iam:GetPolicy", "iam:GetPolicyVersion"]
    resources = [local.boundary_arn]
  }

  # Pass the environment's roles only to the services that use them.
  statement {
    sid       = "PassEnvironmentRolesToTheirServices"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = [local.environment_roles]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = local.passed_to_services
    }
  }

  # A blue/green environment's smoke-test hook function: CreateFunction passes its execution role
  # ("Lambda execution role", Lambda Developer Guide). That one role, to Lambda only: any other
  # role of the environment handed to a function the apply role writes would run that code with
  # the role's rights (the task role's database and secrets among them).
  dynamic "statement" {
    for_each = length(var.lambda_roles) > 0 ? [1] : []
    content {
      sid       = "PassHookRoleToLambda"
      effect    = "Allow"
      actions   = ["iam:PassRole"]
      resources = [for name in var.lambda_roles : "${local.iam_prefix}:role/${name}"]

      condition {
        test     = "StringEquals"
        variable = "iam:PassedToService"
        values   = ["lambda.amazonaws.com"]
      }
    }
  }

  # The flow-log role (CreateFlowLogs) and the RDS monitoring role (CreateDBInstance): their
  # guides ask for iam:PassRole on the role and name no iam:PassedToService value (VPC User
  # Guide, "IAM role for publishing flow logs to CloudWatch Logs"; RDS User Guide, "Setting up
  # and enabling Enhanced Monitoring"), so these two exact roles are passed without that key.
  dynamic "statement" {
    for_each = length(var.pass_roles_without_service) > 0 ? [1] : []
    content {
      sid       = "PassRolesWhoseServiceIsUndocumented"
      effect    = "Allow"
      actions   = ["iam:PassRole"]
      resources = [for name in var.pass_roles_without_service : "${local.iam_prefix}:role/${name}"]
    }
  }

  # ---- Explicit denials: they win over every Allow, PowerUserAccess's included ----

  # No role may lose its boundary (NoBoundaryUserDelete, for roles).
  statement {
    sid       = "DenyBoundaryRemoval"
    effect    = "Deny"
    actions   = ["iam:DeleteRolePermissionsBoundary"]
    resources = ["*"]
  }

  # Neither CI role, the boundary policy (NoBoundaryPolicyEdit) nor the OIDC provider: the apply
  # role cannot change its own trust or rights, the boundary, or who may come in.
  statement {
    sid       = "DenyChangingTheBootstrap"
    effect    = "Deny"
    actions   = ["iam:*"]
    resources = local.bootstrap_identities
  }

  # No other role is assumed: PowerUserAccess allows sts:AssumeRole, and a role elsewhere in the
  # account that trusts the account (arn:...:root) would otherwise be reachable.
  statement {
    sid       = "DenyRoleChaining"
    effect    = "Deny"
    actions   = ["sts:AssumeRole"]
    resources = ["*"]
  }

  # The state is read and written through the backend; its bucket and key are not the apply's
  # to reconfigure, and its history is not the apply's to erase.
  statement {
    sid    = "DenyReconfiguringTheStateBucket"
    effect = "Deny"
    actions = [
      "s3:DeleteBucket",
      "s3:DeleteBucketPolicy",
      "s3:DeleteObjectVersion",
      "s3:PutBucketAcl",
      "s3:PutBucketOwnershipControls",
      "s3:PutBucketPolicy",
      "s3:PutBucketPublicAccessBlock",
      "s3:PutBucketVersioning",
      "s3:PutEncryptionConfiguration",
      "s3:PutLifecycleConfiguration",
    ]
    resources = [module.state_bucket.arn, "${module.state_bucket.arn}/*"]
  }

  statement {
    sid    = "DenyReconfiguringTheStateKey"
    effect = "Deny"
    actions = [
      "kms:CreateGrant",
      "kms:DeleteAlias",
      "kms:DisableKey",
      "kms:DisableKeyRotation",
      "kms:PutKeyPolicy",
      "kms:ScheduleKeyDeletion",
      "kms:UpdateAlias",
      "kms:UpdateKeyDescription",
    ]
    resources = [aws_kms_key.state.arn, local.state_key_alias_arn]
  }
}

resource "aws_iam_role_policy" "github_apply" {
  name   = var.github_apply_policy_name
  role   = aws_iam_role.github_apply.id
  policy = data.aws_iam_policy_document.github_apply.json
}
