# ---- IAM ----

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    sid     = "EcsTasksAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    # Confused-deputy guard: only ECS acting for this account may assume the roles.
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }

    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ecs:${local.region}:${local.account_id}:*"]
    }
  }
}

# -- Task execution role: used by the ECS agent to pull images, write logs and read secrets.

resource "aws_iam_role" "execution" {
  name                 = var.names.execution_role
  description          = "ECS task execution: pull the app and proxy images, write their logs, read the app's secrets"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid = "PullImages"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:GetDownloadUrlForLayer",
    ]
    resources = [for r in aws_ecr_repository.this : r.arn]
  }

  statement {
    sid = "EcrLogin"
    # GetAuthorizationToken is account-wide: AWS supports no resource other than "*".
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  # "<group ARN>:*" matches the group's streams (and only them: names cannot hold ':'), the form
  # CreateLogStream and PutLogEvents are authorised against.
  statement {
    sid     = "WriteContainerLogs"
    actions = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [
      for arn in concat(
        [aws_cloudwatch_log_group.this["app"].arn, aws_cloudwatch_log_group.this["proxy"].arn],
        var.additional_log_group_arns,
      ) : "${arn}:*"
    ]
  }

  dynamic "statement" {
    for_each = length(local.ssm_parameter_arns) > 0 ? [1] : []
    content {
      sid       = "ReadSsmSecrets"
      actions   = ["ssm:GetParameters"]
      resources = local.ssm_parameter_arns
    }
  }

  dynamic "statement" {
    for_each = length(local.secretsmanager_arns) > 0 ? [1] : []
    content {
      sid       = "ReadSecretsManagerSecrets"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = local.secretsmanager_arns
    }
  }

  # Only when SSM (SecureString parameters) or Secrets Manager decrypts a secret for the ECS
  # agent: the role never decrypts anything directly.
  # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
  statement {
    sid       = "DecryptSecrets"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = var.names.execution_policy
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# -- Task role: what the containers themselves may do. The app calls no AWS API; ECS Exec does.

resource "aws_iam_role" "task" {
  name                 = var.names.task_role
  description          = "ECS task: the ECS Exec channel and its session logs"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "task" {
  statement {
    sid = "EcsExecChannel"
    # The Session Manager channel actions support no resource-level permissions: "*" is required.
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "EcsExecLogs"
    actions   = ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this["exec"].arn}:*"]
  }

  statement {
    sid = "EcsExecLogGroupCheck"
    # The agent checks the group's encryption with DescribeLogGroups, which only supports "*".
    actions   = ["logs:DescribeLogGroups"]
    resources = ["*"]
  }

  statement {
    sid       = "EcsExecEncryption"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  # IAM database authentication: a token for the app's own database role, and only that one.
  # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
  dynamic "statement" {
    for_each = length(var.database_connect_arns) > 0 ? [1] : []
    content {
      sid       = "DatabaseIamAuth"
      actions   = ["rds-db:connect"]
      resources = var.database_connect_arns
    }
  }

  # IAM authentication to the cache: elasticache:Connect on the replication group and on the
  # app's cache user, both required.
  # https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html
  dynamic "statement" {
    for_each = length(var.cache_connect_arns) > 0 ? [1] : []
    content {
      sid       = "CacheIamAuth"
      actions   = ["elasticache:Connect"]
      resources = var.cache_connect_arns
    }
  }
}

resource "aws_iam_role_policy" "task" {
  name   = var.names.task_policy
  role   = aws_iam_role.task.id
  policy = data.aws_iam_policy_document.task.json
}

# -- Migration task role: the only holder of the database's master credentials. A role of its
# own, because the service and the scheduled jobs share the task role and must never read
# them; the migration task shares the execution role (which reads no master secret either):
# the app reads the rotating secret itself at run time (DATABASE_CREDENTIALS_ARN).

resource "aws_iam_role" "migrate" {
  name                 = var.names.migrate_task_role
  description          = "ECS migration task: read the database master credentials to create the app's role and migrate"
  assume_role_policy   = data.aws_iam_policy_document.ecs_tasks_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "migrate" {
  statement {
    sid       = "ReadMasterCredentials"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = var.migration_secret_arns
  }

  statement {
    sid       = "DecryptMasterCredentials"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]

    # Only when Secrets Manager decrypts the secret for this role, not for direct use.
    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "migrate" {
  name   = var.names.migrate_task_policy
  role   = aws_iam_role.migrate.id
  policy = data.aws_iam_policy_document.migrate.json
}

# -- Infrastructure role for load balancers (blue/green only): ECS assumes it to move the weights
# of the production and test listener rules and to register tasks in either target group.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AmazonECSInfrastructureRolePolicyForLoadBalancers.html
# The AWS managed policy is the one that page names: AWS keeps it in step with what the
# deployment workflow calls (a hand-written copy would miss what ECS starts calling later).

data "aws_iam_policy_document" "ecs_infrastructure_assume" {
  statement {
    sid     = "EcsInfrastructureAssume"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs.amazonaws.com"]
    }

    # No condition, as the page above gives the trust policy. aws:SourceAccount is in the request
    # context only when the service sets it (IAM User Guide, "AWS global condition context keys"),
    # and the ECS guide does not say ECS sets it when it assumes this role; a condition on a key
    # that is absent denies, and a blue/green deployment would then fail at its first traffic
    # shift.
  }
}

resource "aws_iam_role" "infrastructure" {
  count = local.blue_green ? 1 : 0

  name                 = var.names.infrastructure_role
  description          = "ECS blue/green deployments: shift the listener rules' weights between the two target groups"
  assume_role_policy   = data.aws_iam_policy_document.ecs_infrastructure_assume.json
  permissions_boundary = var.permissions_boundary_arn
}

resource "aws_iam_role_policy_attachment" "infrastructure" {
  count = local.blue_green ? 1 : 0

  role       = aws_iam_role.infrastructure[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
}
