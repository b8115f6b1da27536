data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.region
  partition  = data.aws_partition.current.partition

  # The buildspec reads these; none is a secret, so all are PLAINTEXT.
  build_environment_variables = {
    AWS_ACCOUNT_ID       = local.account_id
    APP_REPOSITORY_URL   = var.app_repository_url
    PROXY_REPOSITORY_URL = var.proxy_repository_url
    CLUSTER_NAME         = var.cluster_name
    MIGRATE_TASK_FAMILY  = var.migrate_task_family
    BATCH_TASK_FAMILIES  = join(" ", var.batch_task_families)
    SUBNET_IDS           = join(",", var.private_subnet_ids)
    SECURITY_GROUP_ID    = var.security_group_id
    APP_CONTAINER_NAME   = "app"
    PROXY_CONTAINER_NAME = "proxy"
  }
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

module "artifact_bucket" {
  source = "../s3_bucket"

  name                       = var.names.artifact_bucket
  kms_key_arn                = var.kms_key_arn
  force_destroy              = var.artifact_bucket_force_destroy
  versioning                 = true
  expiration_days            = var.artifact_expiration_days
  noncurrent_expiration_days = var.artifact_expiration_days
}

# ---- Build project ----

resource "aws_cloudwatch_log_group" "build" {
  name              = var.names.build_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_codebuild_project" "this" {
  # checkov:skip=CKV_AWS_316: Privileged mode is required to run the Docker daemon that builds the app and proxy images; the build runs only this repository's buildspec from the pipeline.
  name          = var.names.build_project
  description   = "Builds and pushes the app and proxy images, runs the database migration task and writes imagedefinitions.json."
  service_role  = aws_iam_role.build.arn
  build_timeout = var.build_timeout

  # The pipeline runs one execution at a time; this also keeps a manual
  # StartBuild from running a second migration alongside it.
  concurrent_build_limit = 1

  encryption_key = var.kms_key_arn

  source {
    type      = "CODEPIPELINE"
    buildspec = "app/buildspec.yml"
  }

  artifacts {
    type = "CODEPIPELINE"
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = "BUILD_GENERAL1_SMALL"
    image                       = var.build_image
    image_pull_credentials_type = "CODEBUILD"
    # Docker builds need the Docker daemon, which only runs in privileged mode.
    privileged_mode = true

    dynamic "environment_variable" {
      for_each = local.build_environment_variables
      content {
        name  = environment_variable.key
        value = environment_variable.value
        type  = "PLAINTEXT"
      }
    }
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.build.name
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  # No vpc_config: the build only calls AWS APIs (ECR, ECS, S3, CloudWatch
  # Logs) and pulls base images, so it needs no route into the VPC. The
  # migration runs as an ECS task in the private subnets, not in the build.
}

# ---- Pipeline ----

resource "aws_codepipeline" "this" {
  name     = var.names.pipeline
  role_arn = aws_iam_role.pipeline.arn

  pipeline_type = "V2"
  # QUEUED runs executions one at a time, in order, each from build through
  # deploy. With the default SUPERSEDED, a newer commit could run its
  # migration while an older execution is still deploying code that expects
  # the old schema; queued, the schema and the code move forward together
  # and two migrations never run at once.
  execution_mode = "QUEUED"

  artifact_store {
    type     = "S3"
    location = module.artifact_bucket.id

    encryption_key {
      id   = var.kms_key_arn
      type = "KMS"
    }
  }

  # The V2 trigger starts the pipeline on a push to the branch, so the source
  # action's own change detection is off (DetectChanges = "false").
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

  stage {
    name = "Build"

    action {
      name             = "Build"
      category         = "Build"
      owner            = "AWS"
      provider         = "CodeBuild"
      version          = "1"
      input_artifacts  = ["source_output"]
      output_artifacts = ["build_output"]

      configuration = {
        ProjectName = aws_codebuild_project.this.name
        # The commit being built, for the image tag: a CODE_ZIP source
        # carries no .git folder.
        EnvironmentVariables = jsonencode([
          {
            name  = "COMMIT_ID"
            value = "#{SourceVariables.CommitId}"
            type  = "PLAINTEXT"
          },
        ])
      }
    }
  }

  stage {
    name = "Deploy"

    action {
      name            = "Deploy"
      category        = "Deploy"
      owner           = "AWS"
      provider        = "ECS"
      version         = "1"
      input_artifacts = ["build_output"]

      configuration = {
        ClusterName       = var.cluster_name
        ServiceName       = var.service_name
        FileName          = "imagedefinitions.json"
        DeploymentTimeout = tostring(var.deploy_timeout)
      }
    }
  }
}
