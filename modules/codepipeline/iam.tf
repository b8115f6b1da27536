locals {
  ecs_arn_prefix = "arn:${local.partition}:ecs:${local.region}:${local.account_id}"

  service_arn = "${local.ecs_arn_prefix}:service/${var.cluster_name}/${var.service_name}"
  tasks_arn   = "${local.ecs_arn_prefix}:task/${var.cluster_name}/*"

  # Every revision of the families the deploy program registers revisions in.
  deploy_task_definition_arns = [
    for family in concat([var.service_task_family, var.migrate_task_family], var.batch_task_families) :
    "${local.ecs_arn_prefix}:task-definition/${family}:*"
  ]

  artifact_bucket_arn = module.artifact_bucket.arn

  build_roles = {
    test   = { name = var.names.test_role, policy = var.names.test_policy, description = "Runs the Test stage: reads the source artifact and writes its build log, nothing else." }
    build  = { name = var.names.build_role, policy = var.names.build_policy, description = "Runs the Build stage: pushes the app and proxy images of the commit to ECR." }
    deploy = { name = var.names.deploy_role, policy = var.names.deploy_policy, description = "Runs the Deploy stage: the migration task, the image tag parameter, the service rollout and the job revisions." }
  }
}

# ---- Trust ----

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

# ---- Pipeline role ----

resource "aws_iam_role" "pipeline" {
  name                 = var.names.pipeline_role
  description          = "Runs the pipeline: reads the repository, hands artifacts to the builds, asks for approval."
  assume_role_policy   = data.aws_iam_policy_document.assume["pipeline"].json
  permissions_boundary = var.permissions_boundary_arn
}

data "aws_iam_policy_document" "pipeline" {
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

  # The pipeline uses the key only through S3 (SSE-KMS artifacts) and SNS (the encrypted topic
  # of approval requests).
  statement {
    sid    = "ArtifactEncryption"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
    ]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com", "sns.${local.region}.amazonaws.com"]
    }
  }

  statement {
    sid    = "RunBuilds"
    effect = "Allow"
    actions = [
      "codebuild:BatchGetBuilds",
      "codebuild:StartBuild",
    ]
    resources = [for project in aws_codebuild_project.this : project.arn]
  }

  # The manual approval action publishes its request to the topic with the pipeline's role;
  # the topic is encrypted with the environment key, so publishing also needs the key
  # (SNS server-side encryption: publishers need kms:GenerateDataKey and kms:Decrypt).
  dynamic "statement" {
    for_each = var.manual_approval ? [1] : []
    content {
      sid       = "NotifyApprovers"
      effect    = "Allow"
      actions   = ["sns:Publish"]
      resources = [var.approval_topic_arn]
    }
  }
}

resource "aws_iam_role_policy" "pipeline" {
  name   = var.names.pipeline_policy
  role   = aws_iam_role.pipeline.id
  policy = data.aws_iam_policy_document.pipeline.json
}

# ---- Build project roles ----

resource "aws_iam_role" "this" {
  for_each = local.build_roles

  name                 = each.value.name
  description          = each.value.description
  assume_role_policy   = data.aws_iam_policy_document.assume["build"].json
  permissions_boundary = var.permissions_boundary_arn
}

# What every build needs: its log stream, the source artifact, the key both are encrypted with.
data "aws_iam_policy_document" "build_common" {
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
    sid    = "ReadSourceArtifact"
    effect = "Allow"
    actions = [
      "s3:GetObject",
      "s3:GetObjectVersion",
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

  # CodeBuild uses the project's key through S3 (the artifacts), as its own key policy example
  # has it (CodeBuild User Guide, "Create a customer managed key for CodeBuild"); CloudWatch
  # Logs encrypts the log group with its own key-policy grant, not the caller's.
  statement {
    sid    = "ArtifactEncryption"
    effect = "Allow"
    actions = [
      "kms:Decrypt",
      "kms:Encrypt",
      "kms:GenerateDataKey",
    ]
    resources = [var.kms_key_arn]

    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "test" {
  source_policy_documents = [data.aws_iam_policy_document.build_common.json]
}

data "aws_iam_policy_document" "build" {
  source_policy_documents = [data.aws_iam_policy_document.build_common.json]

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
}

data "aws_iam_policy_document" "deploy" {
  source_policy_documents = [data.aws_iam_policy_document.build_common.json]

  # The release checks the commit's images exist, and marks the images it deploys with a
  # second tag the repositories' lifecycle policy keeps (deploy/images.py): the manifest is read
  # (BatchGetImage) and put again under that tag (PutImage); the mark leaves older releases'
  # images by deleting that tag alone (BatchDeleteImage of a tag keeps the image while it has
  # another tag, ECR API reference). No layer upload: the layers are already there.
  statement {
    sid    = "FindAndMarkImages"
    effect = "Allow"
    actions = [
      "ecr:BatchDeleteImage",
      "ecr:BatchGetImage",
      "ecr:DescribeImages",
      "ecr:PutImage",
    ]
    resources = [var.app_repository_arn, var.proxy_repository_arn]
  }

  # Listing, describing, registering and deregistering task definitions support no
  # resource-level permissions: AWS requires "*" for all four.
  statement {
    sid    = "TaskDefinitionRevisions"
    effect = "Allow"
    actions = [
      "ecs:DeregisterTaskDefinition",
      "ecs:DescribeTaskDefinition",
      "ecs:ListTaskDefinitions",
      "ecs:RegisterTaskDefinition",
    ]
    resources = ["*"]
  }

  # A registration copies the family's tags, which needs ecs:TagResource, allowed only as part
  # of that registration and only in the release's families.
  statement {
    sid       = "TagNewRevisions"
    effect    = "Allow"
    actions   = ["ecs:TagResource"]
    resources = local.deploy_task_definition_arns

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RegisterTaskDefinition"]
    }
  }

  statement {
    sid       = "RunMigration"
    effect    = "Allow"
    actions   = ["ecs:RunTask"]
    resources = ["${local.ecs_arn_prefix}:task-definition/${var.migrate_task_family}:*"]

    condition {
      test     = "ArnEquals"
      variable = "ecs:cluster"
      values   = [var.cluster_arn]
    }
  }

  # The migration task gets its task definition's tags and ECS's managed tags at RunTask.
  statement {
    sid       = "TagMigrationTask"
    effect    = "Allow"
    actions   = ["ecs:TagResource"]
    resources = [local.tasks_arn]

    condition {
      test     = "StringEquals"
      variable = "ecs:CreateAction"
      values   = ["RunTask"]
    }
  }

  statement {
    sid    = "WatchAndStopMigration"
    effect = "Allow"
    actions = [
      "ecs:DescribeTasks",
      "ecs:StopTask",
    ]
    resources = [local.tasks_arn]
  }

  statement {
    sid    = "RollOutService"
    effect = "Allow"
    actions = [
      "ecs:DescribeServices",
      "ecs:UpdateService",
    ]
    resources = [local.service_arn]
  }

  # Blue/green releases follow the service deployment (its lifecycle stage and verdict), and stop
  # it with a rollback when their smoke test fails or their wait runs out. Resource types per
  # action: Service Authorization Reference, "Actions defined by Amazon Elastic Container
  # Service" (ListServiceDeployments: service; Describe/StopServiceDeployment(s):
  # service-deployment; DescribeServiceRevisions: service-revision).
  statement {
    sid       = "FollowServiceDeployments"
    effect    = "Allow"
    actions   = ["ecs:ListServiceDeployments"]
    resources = [local.service_arn]
  }

  statement {
    sid    = "WatchAndStopServiceDeployments"
    effect = "Allow"
    actions = [
      "ecs:DescribeServiceDeployments",
      "ecs:DescribeServiceRevisions",
      "ecs:StopServiceDeployment",
    ]
    resources = [
      "${local.ecs_arn_prefix}:service-deployment/${var.cluster_name}/${var.service_name}/*",
      "${local.ecs_arn_prefix}:service-revision/${var.cluster_name}/${var.service_name}/*",
    ]
  }

  statement {
    sid    = "PublishImageTag"
    effect = "Allow"
    actions = [
      "ssm:GetParameter",
      "ssm:PutParameter",
    ]
    resources = [var.image_tag_parameter_arn]
  }

  # Registering revisions and running the migration hand the app's execution and task roles
  # (and the migration's own role) to ECS; nothing else may receive them.
  statement {
    sid       = "PassTaskRoles"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = [var.execution_role_arn, var.task_role_arn, var.migrate_task_role_arn]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

locals {
  build_policies = {
    test   = data.aws_iam_policy_document.test.json
    build  = data.aws_iam_policy_document.build.json
    deploy = data.aws_iam_policy_document.deploy.json
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.build_roles

  name   = each.value.policy
  role   = aws_iam_role.this[each.key].id
  policy = local.build_policies[each.key]
}
