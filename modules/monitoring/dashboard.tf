# ---- Dashboard ----

locals {
  # Metric rows in CloudWatch's widget syntax: namespace, name, dimension pairs, then options.
  # One row per target group production may be in (both of a blue/green pair, each labelled).
  # Lists of rows are joined with concat(...), not flatten, which would flatten the rows too.
  tgs = [
    for group in local.target_groups : {
      dimensions = ["LoadBalancer", var.alb_arn_suffix, "TargetGroup", group.suffix]
      label      = local.blue_green ? " ${group.name}" : ""
    }
  ]
  lb  = ["LoadBalancer", var.alb_arn_suffix]
  svc = ["ClusterName", var.cluster_name, "ServiceName", var.service_name]
  db  = ["DBInstanceIdentifier", var.db_instance_identifier]

  # Each alarm's threshold, drawn as a line on the graph of its metric.
  threshold_line = {
    for kind, spec in local.alarm_kinds : kind => {
      label = "${kind} ${local.comparison_signs[spec.comparison]} ${var.alarms[kind].threshold} ${spec.unit}"
      value = var.alarms[kind].threshold * spec.scale
    }
  }

  widgets = [
    {
      title       = "Requests"
      metrics     = [for g in local.tgs : concat(["AWS/ApplicationELB", "RequestCount"], g.dimensions, [{ stat = "Sum", label = "requests${g.label}" }])]
      annotations = []
    },
    {
      title = "Server errors (5xx)"
      metrics = concat(
        [for g in local.tgs : concat(["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"], g.dimensions, [{ stat = "Sum", label = "from the app${g.label}" }])],
        [
          concat(["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count"], local.lb, [{ stat = "Sum", label = "from the load balancer" }]),
          concat(["AWS/ApplicationELB", "RejectedConnectionCount"], local.lb, [{ stat = "Sum", label = "rejected connections" }]),
        ],
      )
      annotations = [local.threshold_line.alb_elb_5xx]
    },
    {
      title = "Response time (seconds)"
      metrics = concat([
        for p in ["p50", "p90", "p99"] : [
          for g in local.tgs : concat(["AWS/ApplicationELB", "TargetResponseTime"], g.dimensions, [{ stat = p, label = "${p}${g.label}" }])
        ]
      ]...)
      annotations = [local.threshold_line.alb_p99_latency]
    },
    {
      title = "Tasks"
      metrics = [
        for m in ["DesiredTaskCount", "RunningTaskCount", "PendingTaskCount"] :
        concat(["ECS/ContainerInsights", m], local.svc, [{ stat = "Average", label = m }])
      ]
      annotations = []
    },
    {
      title = "Service CPU and memory (%)"
      metrics = [
        for m in ["CPUUtilization", "MemoryUtilization"] :
        concat(["AWS/ECS", m], local.svc, [{ stat = "Average", label = m }])
      ]
      annotations = [local.threshold_line.ecs_cpu]
    },
    {
      title = "Targets"
      metrics = concat([
        for m in ["HealthyHostCount", "UnHealthyHostCount"] : [
          for g in local.tgs : concat(["AWS/ApplicationELB", m], g.dimensions, [{ stat = "Maximum", label = "${m}${g.label}" }])
        ]
      ]...)
      annotations = []
    },
    {
      title = "Database CPU (%) and connections"
      metrics = [
        concat(["AWS/RDS", "CPUUtilization"], local.db, [{ stat = "Average", label = "CPU %" }]),
        concat(["AWS/RDS", "DatabaseConnections"], local.db, [{ stat = "Maximum", label = "connections", yAxis = "right" }]),
      ]
      annotations = [local.threshold_line.rds_cpu]
    },
    {
      title = "Database free storage and memory (bytes)"
      metrics = [
        concat(["AWS/RDS", "FreeStorageSpace"], local.db, [{ stat = "Minimum", label = "free storage" }]),
        concat(["AWS/RDS", "FreeableMemory"], local.db, [{ stat = "Minimum", label = "freeable memory" }]),
      ]
      annotations = [local.threshold_line.rds_free_storage, local.threshold_line.rds_freeable_memory]
    },
    {
      title = "Database latency (seconds)"
      metrics = [
        for m in ["ReadLatency", "WriteLatency"] :
        concat(["AWS/RDS", m], local.db, [{ stat = "Average", label = m }])
      ]
      annotations = [local.threshold_line.rds_read_latency]
    },
    {
      title = "Cache engine CPU and memory (%)"
      metrics = concat([
        for member, id in var.cache_cluster_ids : [
          ["AWS/ElastiCache", "EngineCPUUtilization", "CacheClusterId", id, { stat = "Average", label = "CPU ${member}" }],
          ["AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "CacheClusterId", id, { stat = "Maximum", label = "memory ${member}" }],
        ]
      ]...)
      annotations = [local.threshold_line.cache_memory]
    },
    {
      title = "Cache evictions and connections"
      metrics = concat([
        for member, id in var.cache_cluster_ids : [
          ["AWS/ElastiCache", "Evictions", "CacheClusterId", id, { stat = "Sum", label = "evictions ${member}" }],
          ["AWS/ElastiCache", "CurrConnections", "CacheClusterId", id, { stat = "Maximum", label = "connections ${member}", yAxis = "right" }],
        ]
      ]...)
      annotations = []
    },
    {
      title = "Scheduled job runs"
      metrics = concat(
        [
          for m in ["InvocationAttemptCount", "TargetErrorCount", "InvocationsSentToDeadLetterCount"] :
          ["AWS/Scheduler", m, "ScheduleGroup", var.schedule_group_name, { stat = "Sum", label = m }]
        ],
        [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.dead_letter_queue_name, { stat = "Maximum", label = "dead letters" }]],
      )
      annotations = []
    },
  ]

  # Three graphs per row, then the state of every alarm across the full width.
  dashboard = {
    widgets = concat(
      [
        for i, w in local.widgets : {
          type   = "metric"
          x      = (i % 3) * 8
          y      = floor(i / 3) * 6
          width  = 8
          height = 6
          properties = {
            title       = w.title
            region      = local.region
            view        = "timeSeries"
            stacked     = false
            period      = 60
            metrics     = w.metrics
            annotations = { horizontal = w.annotations }
          }
        }
      ],
      [
        {
          type   = "alarm"
          x      = 0
          y      = ceil(length(local.widgets) / 3) * 6
          width  = 24
          height = 4
          properties = {
            title  = "Alarms"
            alarms = sort([for alarm in aws_cloudwatch_metric_alarm.this : alarm.arn])
          }
        }
      ],
    )
  }
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.names.dashboard
  dashboard_body = jsonencode(local.dashboard)
}
