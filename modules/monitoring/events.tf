# ---- Event notifications ----

locals {
  # Every rule sends one readable line to the alert topic: an input transformer picks fields of
  # the event (input_paths) and fills them into a JSON string (template), which SNS delivers as
  # the message body. A path absent from an event leaves its placeholder empty. `runbook`: the
  # section of docs/runbooks/ the line ends with a link to.
  rules = {
    # The circuit breaker or a deployment alarm failed a deployment; with rollback on, ECS
    # returns to the last completed deployment and says why in `reason`.
    deployment = {
      runbook     = "service.md#deployment-failed"
      description = "ECS deployment of ${var.service_name} failed (and rolled back)"
      pattern = jsonencode({
        source        = ["aws.ecs"]
        "detail-type" = ["ECS Deployment State Change"]
        resources     = [local.service_arn]
        detail        = { eventName = ["SERVICE_DEPLOYMENT_FAILED"] }
      })
      input_paths = {
        deployment = "$.detail.deploymentId"
        reason     = "$.detail.reason"
      }
      template = "\"${var.alert_label}: ECS deployment <deployment> of ${var.service_name} failed: <reason>\""
    }

    # A scheduled job or the migration stopped badly. Event patterns have no "not zero": they
    # match an array when any element matches, so "anything-but 0" on the containers' exit codes
    # catches a non-zero exit; a task that never started has no exit code, hence the stop code.
    task = {
      runbook     = "jobs.md#task-stopped"
      description = "A scheduled job or the migration task stopped with a non-zero exit code or failed to start"
      pattern = jsonencode({
        source        = ["aws.ecs"]
        "detail-type" = ["ECS Task State Change"]
        detail = {
          clusterArn        = [local.cluster_arn]
          lastStatus        = ["STOPPED"]
          taskDefinitionArn = [for prefix in local.task_definition_prefixes : { prefix = prefix }]
          "$or" = [
            { containers = { exitCode = [{ "anything-but" = [0] }] } },
            { stopCode = ["TaskFailedToStart"] },
          ]
        }
      })
      input_paths = {
        group  = "$.detail.group"
        task   = "$.detail.taskArn"
        code   = "$.detail.containers[0].exitCode"
        reason = "$.detail.stoppedReason"
      }
      template = "\"${var.alert_label}: task <group> stopped with exit code <code>: <reason> (<task>)\""
    }

    pipeline = {
      runbook     = "release.md#pipeline-failed"
      description = "Pipeline ${var.pipeline_name} failed"
      pattern = jsonencode({
        source        = ["aws.codepipeline"]
        "detail-type" = ["CodePipeline Pipeline Execution State Change"]
        resources     = [local.pipeline_arn]
        detail        = { state = ["FAILED"] }
      })
      input_paths = {
        execution = "$.detail.execution-id"
        state     = "$.detail.state"
      }
      template = "\"${var.alert_label}: pipeline ${var.pipeline_name} execution <execution> <state>\""
    }

    # RDS sends its instance events to EventBridge; the categories below are the ones that
    # mean downtime or a risk of it. The instance is matched by its ARN in `resources` (as in
    # the RDS user guide's DB instance event example), the envelope every AWS event carries;
    # the form of detail.SourceIdentifier (identifier or ARN) differs between AWS's own pages.
    database = {
      runbook     = "database.md#database-event"
      description = "RDS instance ${var.db_instance_identifier}: ${join(", ", local.rds_event_categories)}"
      pattern = jsonencode({
        source        = ["aws.rds"]
        "detail-type" = ["RDS DB Instance Event"]
        resources     = [local.db_instance_arn]
        detail = {
          EventCategories = local.rds_event_categories
        }
      })
      input_paths = {
        event   = "$.detail.EventID"
        message = "$.detail.Message"
      }
      template = "\"${var.alert_label}: RDS ${var.db_instance_identifier}: <message> (<event>)\""
    }
  }

  rds_event_categories = ["availability", "failover", "failure", "low storage", "maintenance", "recovery"]

  # Each template with its runbook's link before the closing quote: still one JSON string, as
  # runbook_base_url holds no quote or backslash (validated).
  event_lines = {
    for key, rule in local.rules :
    key => format("%s Runbook: %s%s\"", trimsuffix(rule.template, "\""), var.runbook_base_url, rule.runbook)
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.rules

  name          = var.names.rules[each.key]
  description   = each.value.description
  event_pattern = each.value.pattern
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.rules

  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = "alerts"
  arn       = aws_sns_topic.alerts.arn

  input_transformer {
    input_paths    = each.value.input_paths
    input_template = local.event_lines[each.key]
  }
}
