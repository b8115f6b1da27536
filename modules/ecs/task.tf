# ---- Task definition ----

locals {
  # Both images set these UIDs too; repeating them here keeps a root-running image from starting.
  app_user   = "10001"
  proxy_user = "101" # nginx-unprivileged

  # Root file systems are read-only; each container gets its own empty task-scoped scratch
  # volume at /tmp (gunicorn's control files, nginx's temp paths and pid).
  app_scratch_volume   = "app-tmp"
  proxy_scratch_volume = "proxy-tmp"

  # Seconds between SIGTERM and SIGKILL: above gunicorn's graceful timeout (25 s).
  stop_timeout = 30

  # Every container runs with an init process (ECS Exec needs one) and without any Linux
  # capability: gunicorn and the unprivileged nginx bind ports above 1024 and need none.
  # (No AWS document lists capabilities that ECS Exec needs; containers-roadmap #1360 asks.)
  linux_parameters = {
    initProcessEnabled = true
    capabilities       = { drop = ["ALL"] }
  }

  # ECS Exec's SSM agent writes under these paths inside the container it opens a shell in.
  # AWS's ECS Exec considerations say a read-only root file system is not supported for that
  # reason; writable task volumes at exactly these paths are the workaround documented by
  # AWS's own exec checker (aws-containers/amazon-ecs-exec-checker, issues 21 and 71). Only
  # the service's app container gets them: it is the one ECS Exec is enabled for.
  exec_agent_volumes = {
    exec-agents  = "/managed-agents"
    exec-ssm-lib = "/var/lib/amazon/ssm"
    exec-ssm-log = "/var/log/amazon/ssm"
  }

  ssm_parameter_arns = sort(distinct([
    for s in values(var.secrets) : s.arn if can(regex("^arn:[^:]+:ssm:", s.arn))
  ]))
  secretsmanager_arns = sort(distinct([
    for s in values(var.secrets) : s.arn if can(regex("^arn:[^:]+:secretsmanager:", s.arn))
  ]))

  app_environment = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
  app_secrets = [
    for k in sort(keys(var.secrets)) : {
      name      = k
      valueFrom = var.secrets[k].json_key == null ? var.secrets[k].arn : "${var.secrets[k].arn}:${var.secrets[k].json_key}::"
    }
  ]

  # What every task running the app image shares (the service here, the batch module's jobs
  # and migration): image, user, read-only root, scratch /tmp, settings and secrets.
  app_container_base = {
    name                   = "app"
    image                  = "${aws_ecr_repository.this["app"].repository_url}:${local.image_tag}"
    essential              = true
    user                   = local.app_user
    readonlyRootFilesystem = true
    linuxParameters        = local.linux_parameters
    mountPoints            = [{ sourceVolume = local.app_scratch_volume, containerPath = "/tmp", readOnly = false }]
    environment            = local.app_environment
    secrets                = local.app_secrets
    stopTimeout            = local.stop_timeout
  }

  # What only the service's app container adds: a health check (the proxy waits for it), its
  # logs and the ECS Exec agent's writable paths.
  app_service_settings = {
    mountPoints = concat(local.app_container_base.mountPoints, [
      for volume, path in local.exec_agent_volumes : { sourceVolume = volume, containerPath = path, readOnly = false }
    ])
    # The image has python but no curl. gunicorn's master answers liveness on its port + 1
    # (app/config/liveness.py), not a request worker: a database outage that keeps every worker
    # waiting does not get the task replaced, while a dead or frozen gunicorn still does.
    healthCheck = {
      command     = ["CMD", "python", "-c", "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:${var.app_port + 1}/healthz', timeout=3)"]
      interval    = 15
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this["app"].name
        awslogs-region        = local.region
        awslogs-stream-prefix = "app"
        mode                  = "non-blocking"
        max-buffer-size       = "25m"
      }
    }
  }

  proxy_container = {
    name                   = "proxy"
    image                  = "${aws_ecr_repository.this["proxy"].repository_url}:${local.image_tag}"
    essential              = true
    user                   = local.proxy_user
    readonlyRootFilesystem = true
    linuxParameters        = local.linux_parameters
    mountPoints            = [{ sourceVolume = local.proxy_scratch_volume, containerPath = "/tmp", readOnly = false }]
    portMappings           = [{ name = "http", containerPort = var.proxy_port, protocol = "tcp" }]
    # The ALB only sees the task once nginx runs, and nginx only starts once gunicorn answers.
    dependsOn   = [{ containerName = local.app_container_base.name, condition = "HEALTHY" }]
    stopTimeout = local.stop_timeout
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.this["proxy"].name
        awslogs-region        = local.region
        awslogs-stream-prefix = "proxy"
        mode                  = "non-blocking"
        max-buffer-size       = "25m"
      }
    }
  }
}

# Terraform owns the settings of the family and the pipeline owns the image; both register
# revisions. track_latest makes Terraform compare against the family's latest ACTIVE revision
# (possibly the pipeline's, which differs only in the image it also reads from the parameter),
# so a deploy shows no diff; skip_destroy keeps replaced revisions ACTIVE for rollbacks.
resource "aws_ecs_task_definition" "this" {
  family                   = var.names.task_family
  track_latest             = true
  skip_destroy             = true
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = tostring(var.cpu)
  memory                   = tostring(var.memory)
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = aws_iam_role.task.arn

  container_definitions = jsonencode([
    local.proxy_container,
    merge(local.app_container_base, local.app_service_settings),
  ])

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  volume {
    name = local.app_scratch_volume
  }

  volume {
    name = local.proxy_scratch_volume
  }

  dynamic "volume" {
    for_each = local.exec_agent_volumes
    content {
      name = volume.key
    }
  }
}
