# ---- Schedules ----

resource "aws_scheduler_schedule_group" "this" {
  name = var.names.schedule_group
}

resource "aws_scheduler_schedule" "job" {
  for_each = local.jobs

  name                         = var.names.schedules[each.key]
  group_name                   = aws_scheduler_schedule_group.this.name
  description                  = "Batch job ${each.key}"
  schedule_expression          = each.value.schedule
  schedule_expression_timezone = each.value.timezone
  state                        = each.value.enabled ? "ENABLED" : "DISABLED"
  kms_key_arn                  = var.kms_key_arn

  flexible_time_window {
    mode                      = "FLEXIBLE"
    maximum_window_in_minutes = var.flexible_window_minutes
  }

  target {
    arn      = var.cluster_arn
    role_arn = module.scheduler_role.arn

    ecs_parameters {
      # The family ARN without a revision: RunTask then starts the latest ACTIVE revision, i.e.
      # the one the pipeline registered with the image it just deployed. A pinned revision would
      # keep running the image of the last `terraform apply`.
      task_definition_arn     = aws_ecs_task_definition.job[each.key].arn_without_revision
      launch_type             = "FARGATE"
      platform_version        = "LATEST"
      task_count              = 1
      enable_ecs_managed_tags = true
      propagate_tags          = "TASK_DEFINITION"
      enable_execute_command  = false

      network_configuration {
        subnets          = var.private_subnet_ids
        security_groups  = [var.security_group_id]
        assign_public_ip = false
      }
    }

    # Retries cover a failed RunTask call (throttling, no capacity), not a task that starts and
    # exits non-zero: that one shows in the job's logs and its stopped-task reason.
    retry_policy {
      maximum_retry_attempts       = var.maximum_retry_attempts
      maximum_event_age_in_seconds = var.maximum_event_age_seconds
    }

    dead_letter_config {
      arn = aws_sqs_queue.dead_letter.arn
    }
  }
}

# ---- Dead-letter queue ----

# Scheduler delivers with the schedule's execution role (sqs:SendMessage in its policy below);
# the queue policy only refuses unencrypted transport.
resource "aws_sqs_queue" "dead_letter" {
  name                              = var.names.dead_letter_queue
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = 1209600 # 14 days, the SQS maximum
}

data "aws_iam_policy_document" "dead_letter" {
  statement {
    sid    = "DenyInsecureTransport"
    effect = "Deny"
    # The message actions, listed: the project writes no wildcard action, even in a Deny.
    actions = [
      "sqs:ChangeMessageVisibility",
      "sqs:DeleteMessage",
      "sqs:PurgeQueue",
      "sqs:ReceiveMessage",
      "sqs:SendMessage",
    ]
    resources = [aws_sqs_queue.dead_letter.arn]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy    = data.aws_iam_policy_document.dead_letter.json
}
