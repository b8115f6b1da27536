locals {
  ecs_arn_prefix = "arn:${local.partition}:ecs:${local.region}:${local.account_id}"

  service_arn = "${local.ecs_arn_prefix}:service/${var.cluster_name}/${var.service_name}"
  tasks_arn   = "${local.ecs_arn_prefix}:task/${var.cluster_name}/*"

  migrate_task_definition_arn = "${local.ecs_arn_prefix}:task-definition/${var.migrate_task_family}:*"
  build_task_definition_arns = [
    for family in concat([var.migrate_task_family], var.batch_task_families) :
    "${local.ecs_arn_prefix}:task-definition/${family}:*"
  ]

  artifact_bucket_arn = module.artifact_bucket.arn
}

# ---- Pipeline role ----

# Each role trusts only its own service, and only on behalf of this account.
data "aws_iam_policy_document" "assume" {
  for_each = {
    pipeline = "codepipeline.amazonaws.com"
    build    = "codebuild.amazonaws.com"
  }

  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = [each.value]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "pipeline" {
  name               = var.names.pipeline_role
  description        = "Runs the pipeline: reads the repository, hands artifacts to the build and deploys the ECS service."
  assume_role_policy = data.aws_iam_policy_document.assume["pipeline"].json
}

data "aws_iam_policy_document" "pipeline" {
  # Both roles start tasks with the app's two roles: one statement, shared.
  source_policy_documents = [data.aws_iam_policy_document.pass_task_roles.json]

  statement {
    sid    = "UseSourceConnection"
    effect = "Allow"
    # The connection service answers to both prefixes; the new one is
    # codeconnections, the connection ARN keeps the old one.
    actions = [
      "codeconnections:UseConnection",
      "codestar-connections:UseConnection",
    ]
    resources = [aws_codestarconnections_connection.this.arn]
  }

  statement {
    sid    = "ArtifactObjects"
    effect = "Allow"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:PutObject",
    ]
    resources = ["${local.artifact_bucket_arn}/*"]
  }

  statement {
    sid    = "ArtifactBucket"
    effect = "Allow"
    actions = [
      "s3:GetBucketLocation",
      "s3:GetBucketVersioning",
    ]
    resources = [local.artifact_bucket_arn]
  }

  statement {
    sid    = "ArtifactEncryption"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
    ]
    resources = [var.kms_key_arn]
  }

  statement {
    sid    = "RunBuild"
    effect = "Allow"
    actions = [
      "codebuild:BatchGetBuilds",
      "codebuild:StartBuild",
    ]
    resources = [aws_codebuild_project.this.arn]
  }

  statement {
    sid    = "DeployService"
    effect = "Allow"
    actions = [
      "ecs:DescribeServices",
      "ecs:UpdateService",
    ]
    resources = [local.service_arn]
  }

  statement {
    sid       = "WatchServiceTasks"
    effect    = "Allow"
    actions   = ["ecs:DescribeTasks"]
    resources = [local.tasks_arn]
  }

  # ecs:ListTasks is authorised on container instances, which Fargate has
  # none of; AWS only accepts "*" here, narrowed to the cluster by condition.
  statement {
    sid       = "ListServiceTasks"
    effect    = "Allow"
    actions   = ["ecs:ListTasks"]
    resources = ["*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }

  # ecs:DescribeTaskDefinition and ecs:RegisterTaskDefinition support no
  # resource-level permissions: AWS requires "*" for both.
  statement {
    sid    = "RegisterTaskDefinition"
    effect = "Allow"
    actions = [
      "ecs:DescribeTaskDefinition",
      "ecs:RegisterTaskDefinition",
    ]
    resources = ["*"]
  }

  # Registering a revision copies the task definition's tags, which needs
  # ecs:TagResource; allowed only as part of that registration.
  statement {
    sid       = "TagNewTaskDefinition"
    effect    = "Allow"
    actions   = ["ecs:TagResource"]
    resources = ["${local.ecs_arn_prefix}:task-definition/*"]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = var.names.pipeline_policy
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline.json
}

# ---- Shared ----

# Registering revisions and running the migration hand the app's execution and task roles to
# ECS; nothing else may receive them.
data "aws_iam_policy_document" "pass_task_roles" {
  statement {
    sid       = "PassTaskRoles"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = [var.execution_role_arn, var.task_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# ---- Build role ----

resource "aws_iam_role" "build" {
  name               = var.names.build_role
  description        = "Runs the build: pushes the images, runs the migration task and registers task definition revisions."
  assume_role_policy = data.aws_iam_policy_document.assume["build"].json
}

data "aws_iam_policy_document" "build" {
  # Both roles start tasks with the app's two roles: one statement, shared.
  source_policy_documents = [data.aws_iam_policy_document.pass_task_roles.json]

  statement {
    sid    = "WriteBuildLogs"
    effect = "Allow"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
    ]
    resources = [
      aws_cloudwatch_log_group.build.arn,
      "${aws_cloudwatch_log_group.build.arn}:*",
    ]
  }

  statement {
    sid    = "ArtifactObjects"
    effect = "Allow"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
      "s3:PutObject",
    ]
    resources = ["${local.artifact_bucket_arn}/*"]
  }

  statement {
    sid    = "ArtifactBucket"
    effect = "Allow"
    actions = [
      "s3:GetBucketAcl",
      "s3:GetBucketLocation",
    ]
    resources = [local.artifact_bucket_arn]
  }

  statement {
    sid    = "ArtifactEncryption"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
    ]
    resources = [var.kms_key_arn]
  }

  # ecr:GetAuthorizationToken is account-wide (it returns a registry login):
  # AWS only accepts "*" for it.
  statement {
    sid       = "LogInToRegistry"
    effect    = "Allow"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid    = "PushAndPullImages"
    effect = "Allow"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.app_repository_arn, var.proxy_repository_arn]
  }

  statement {
    sid       = "RunMigration"
    effect    = "Allow"
    actions   = ["ecs:RunTask"]
    resources = [local.migrate_task_definition_arn]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }

  statement {
    sid       = "WatchMigration"
    effect    = "Allow"
    actions   = ["ecs:DescribeTasks"]
    resources = [local.tasks_arn]
  }

  # ecs:DescribeTaskDefinition and ecs:RegisterTaskDefinition support no
  # resource-level permissions: AWS requires "*" for both.
  statement {
    sid    = "RegisterTaskDefinition"
    effect = "Allow"
    actions = [
      "ecs:DescribeTaskDefinition",
      "ecs:RegisterTaskDefinition",
    ]
    resources = ["*"]
  }

  # The buildspec keeps each family's tags on the revisions it registers.
  statement {
    sid       = "TagNewTaskDefinition"
    effect    = "Allow"
    actions   = ["ecs:TagResource"]
    resources = local.build_task_definition_arns

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }
}

resource "aws_iam_role_policy" "build" {
  name   = var.names.build_policy
  role   = aws_iam_role.build.id
  policy = data.aws_iam_policy_document.build.json
}
