data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.region

  jobs = { for j in var.jobs : j.name => j }

  # The app container mounts its scratch volumes by name; every task definition declares them.
  scratch_volumes = distinct([for m in var.app_container.mountPoints : m.sourceVolume])

  migrate_command = ["python", "manage.py", "migrate", "--noinput"]

  # The migration connects as the database's master user (it creates and grants the app's own
  # role, then migrates as that role): instead of IAM authentication, it reads the rotating
  # master credentials from Secrets Manager at run time, which only its task role may do.
  migrate_environment = [
    for name, value in merge(
      { for e in var.app_container.environment : e.name => e.value if e.name != "DATABASE_IAM_AUTH" },
      { DATABASE_CREDENTIALS_ARN = var.migration_secret_arn },
    ) : { name = name, value = value }
  ]
}

# ---- Logs ----

resource "aws_cloudwatch_log_group" "this" {
  name              = var.names.log_group
  kms_key_id        = var.kms_key_arn
  retention_in_days = var.log_retention_days
}

# ---- Task definitions ----

locals {
  # A job's or a migration's output is worth a short stall: block rather than drop lines.
  log_options = {
    awslogs-group  = aws_cloudwatch_log_group.this.name
    awslogs-region = local.region
    mode           = "blocking"
  }
}

# Like the service's (modules/ecs/task.tf): Terraform owns the settings and the pipeline the
# image, both register revisions; track_latest compares against the family's latest ACTIVE
# revision, skip_destroy keeps replaced ones. The app container's image is the deployed one.
resource "aws_ecs_task_definition" "job" {
  for_each = local.jobs

  family                   = var.names.task_families[each.key]
  track_latest             = true
  skip_destroy             = true
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(each.value.cpu)
  memory                   = tostring(each.value.memory)
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.task_role_arn

  container_definitions = jsonencode([
    merge(var.app_container, {
      command = each.value.command
      logConfiguration = {
        logDriver = "awslogs"
        options   = merge(local.log_options, { awslogs-stream-prefix = each.key })
      }
    })
  ])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  dynamic "volume" {
    for_each = local.scratch_volumes
    content {
      name = volume.value
    }
  }
}

# Run once per deploy by the pipeline, before the service rolls out (not scheduled).
resource "aws_ecs_task_definition" "migrate" {
  family                   = var.names.migrate_task_family
  track_latest             = true
  skip_destroy             = true
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.migrate_cpu)
  memory                   = tostring(var.migrate_memory)
  execution_role_arn       = var.execution_role_arn
  task_role_arn            = var.migrate_task_role_arn

  container_definitions = jsonencode([
    merge(var.app_container, {
      command     = local.migrate_command
      environment = local.migrate_environment
      logConfiguration = {
        logDriver = "awslogs"
        options   = merge(local.log_options, { awslogs-stream-prefix = "migrate" })
      }
    })
  ])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  dynamic "volume" {
    for_each = local.scratch_volumes
    content {
      name = volume.value
    }
  }
}
