# ---- Service ----

resource "aws_ecs_service" "this" {
  name             = var.names.service
  cluster          = aws_ecs_cluster.this.arn
  task_definition  = aws_ecs_task_definition.this.arn
  desired_count    = var.desired_count
  platform_version = "LATEST"

  # Always a strategy (never launch_type), so toggling Spot changes weights in place instead of
  # replacing the service. FARGATE_SPOT at weight 0 receives no tasks.
  capacity_provider_strategy {
    capacity_provider = "FARGATE"
    base              = var.fargate_base
    weight            = 1
  }

  capacity_provider_strategy {
    capacity_provider = "FARGATE_SPOT"
    weight            = var.fargate_spot_weight
  }

  network_configuration {
    subnets          = var.private_subnet_ids
    security_groups  = [aws_security_group.this.id]
    assign_public_ip = false
  }

  load_balancer {
    target_group_arn = var.target_group_arn
    container_name   = local.proxy_container.name
    container_port   = var.proxy_port

    # Blue/green: the idle target group of the pair, and the listener rules whose weights ECS
    # moves (test traffic first, then production), with the role it moves them as.
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html
    dynamic "advanced_configuration" {
      for_each = local.blue_green ? [var.blue_green] : []

      content {
        alternate_target_group_arn = advanced_configuration.value.alternate_target_group_arn
        production_listener_rule   = advanced_configuration.value.production_listener_rule_arn
        test_listener_rule         = advanced_configuration.value.test_listener_rule_arn
        role_arn                   = aws_iam_role.infrastructure[0].arn
      }
    }
  }

  health_check_grace_period_seconds  = var.health_check_grace_period
  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200
  availability_zone_rebalancing      = "ENABLED"

  deployment_controller {
    type = "ECS"
  }

  # ROLLING replaces tasks in place; BLUE_GREEN starts the new revision beside the old one, sends
  # it test traffic, then moves production traffic at once and keeps the old revision running for
  # the bake time, so that a rollback in that window moves traffic straight back. ECS requires a
  # bake time with BLUE_GREEN (DeploymentConfiguration.bakeTimeInMinutes, ECS API reference).
  # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-blue-green.html
  deployment_configuration {
    strategy             = var.deployment_strategy
    bake_time_in_minutes = local.blue_green ? var.bake_time_minutes : null

    # Blue/green: once the test listener serves the new revision, ECS invokes the smoke-test hook
    # and moves production traffic only if it answers SUCCEEDED; FAILED rolls back. Part of the
    # service, so every deployment runs it, whoever starts it (a release, an apply, a rollback).
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html
    dynamic "lifecycle_hook" {
      for_each = local.blue_green ? [1] : []

      content {
        hook_target_arn  = aws_lambda_function.smoke_hook[0].arn
        role_arn         = aws_iam_role.hook_invoke[0].arn
        lifecycle_stages = ["POST_TEST_TRAFFIC_SHIFT"]
      }
    }
  }

  # With either strategy: a deployment whose tasks cannot reach a steady state fails and rolls
  # back. "Both methods [circuit breaker and CloudWatch alarms] only support rolling update
  # deployment and blue/green deployment types" (ECS Developer Guide, "Amazon ECS deployment
  # failure detection"); the API reference's older wording names the ECS deployment controller,
  # which both strategies use. With BLUE_GREEN it stops a green revision that never becomes
  # healthy, before any production traffic moves to it.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # Alarm-based rollback: a deployment also fails, and rolls back, when one of these alarms goes
  # to ALARM while it bakes, even if the new tasks pass their health checks. With BLUE_GREEN the
  # bake time is bake_time_minutes, and the rollback moves production traffic back to the old
  # revision, still running, at once.
  dynamic "alarms" {
    for_each = length(var.deployment_alarm_names) > 0 ? [var.deployment_alarm_names] : []

    content {
      alarm_names = alarms.value
      enable      = true
      rollback    = true
    }
  }

  enable_execute_command  = true
  enable_ecs_managed_tags = true
  propagate_tags          = "SERVICE"
  wait_for_steady_state   = false

  lifecycle {
    # Autoscaling owns the count. task_definition is NOT ignored: a settings change applied by
    # Terraform reaches the service at once, with the deployed image (see image.tf); after a
    # deploy the tracked latest revision is the pipeline's, so there is nothing to change.
    ignore_changes = [desired_count]
  }

  # The hook's role may invoke the function before any deployment asks ECS to.
  depends_on = [aws_ecs_cluster_capacity_providers.this, aws_iam_role_policy.hook_invoke]
}

# ---- Autoscaling ----

locals {
  scale_in_cooldown  = 300 # seconds; scale in slowly to ride out short dips
  scale_out_cooldown = 60
}

resource "aws_appautoscaling_target" "this" {
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.this.name}"
  min_capacity       = var.min_capacity
  max_capacity       = var.max_capacity
}

resource "aws_appautoscaling_policy" "cpu" {
  name               = var.names.cpu_scaling_policy
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.cpu_target
    scale_in_cooldown  = local.scale_in_cooldown
    scale_out_cooldown = local.scale_out_cooldown

    predefined_metric_specification {
      predefined_metric_type = "ECSServiceAverageCPUUtilization"
    }
  }
}

# Rolling only: ALBRequestCountPerTarget names one target group, and with blue/green production
# traffic moves to the other group at every deployment, so the metric would read zero half of
# the time and scale the service in. Blue/green services scale on CPU alone.
resource "aws_appautoscaling_policy" "requests" {
  count = local.blue_green ? 0 : 1

  name               = var.names.requests_scaling_policy
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this.service_namespace
  scalable_dimension = aws_appautoscaling_target.this.scalable_dimension
  resource_id        = aws_appautoscaling_target.this.resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = var.requests_per_target
    scale_in_cooldown  = local.scale_in_cooldown
    scale_out_cooldown = local.scale_out_cooldown

    predefined_metric_specification {
      predefined_metric_type = "ALBRequestCountPerTarget"
      resource_label         = "${var.alb_arn_suffix}/${var.target_group_arn_suffix}"
    }
  }
}
