# ---- Alarms ----

locals {
  # Metrics counted from the app's logs; one account per environment, so this is unique.
  log_namespace = "${var.alert_label}/logs"

  # The load balancer serves the app alone, so its target metrics are the app's; per load
  # balancer rather than per target group, because a blue/green service moves production traffic
  # to the other target group of its pair at every deployment (modules/proxy_server).
  alb_dimensions = { LoadBalancer = var.alb_arn_suffix }
  ecs_dimensions = { ClusterName = var.cluster_name, ServiceName = var.service_name }
  rds_dimensions = { DBInstanceIdentifier = var.db_instance_identifier }

  # Target health exists only per target group. The groups production traffic may be in, in
  # order: the primary alone with rolling deployments; with blue/green also the alternate. After
  # a blue/green deployment's bake one of the pair has no targets, in turn. `name`: a query id.
  target_groups = [
    for group in [
      { name = "primary", suffix = var.target_group_arn_suffix },
      { name = "alternate", suffix = var.alternate_target_group_arn_suffix },
    ] : merge(group, { dimensions = { LoadBalancer = var.alb_arn_suffix, TargetGroup = group.suffix } })
    if group.suffix != null
  ]
  blue_green = length(local.target_groups) > 1

  # A REGIONAL web ACL's metrics carry Region, Rule and WebACL; Rule "ALL" is every rule together
  # (AWS WAF Developer Guide, "AWS WAF metrics and dimensions").
  waf_dimensions = var.waf == null ? {} : {
    all   = { Region = local.region, WebACL = var.waf.web_acl_name, Rule = "ALL" }
    login = { Region = local.region, WebACL = var.waf.web_acl_name, Rule = var.waf.login_rate_metric_name }
  }

  # The catalogue: what each alarm of var.alarms watches. The threshold comes from var.alarms in
  # `unit`, times `scale` into the metric's own unit. `missing` is what a period without data
  # means for that metric, chosen per alarm (the README table lists every row with its reason).
  # `metrics` are queried with the alarm's period; `expression`, when set, combines them.
  # `per_cache_member`: one alarm per member cluster of the replication group.
  # `waf`: only with a web ACL (var.waf), whose metrics it watches.
  # `log`, when set, makes the metric out of log lines: a metric filter on var.log_group_names
  # [group] counts the JSON lines that match `pattern` (CloudWatch Logs user guide, "Using filter
  # patterns to match terms in JSON log events": `{ $.field = "text" }`, numeric `>=`, `&&`).
  # `runbook`: the section of docs/runbooks/ that says what to check and how to recover
  # (<file>.md#<heading anchor>); every alarm's description ends with its link.
  alarm_kinds = {
    alb_target_5xx_rate = {
      namespace        = "AWS/ApplicationELB"
      metric           = "HTTPCode_Target_5XX_Count / RequestCount"
      metrics          = { errors = { name = "HTTPCode_Target_5XX_Count", stat = "Sum" }, requests = { name = "RequestCount", stat = "Sum" } }
      expression       = "100 * FILL(errors, 0) / requests"
      dimensions       = local.alb_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "%"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "no requests, no errors"
      why              = "The app answers with server errors; also rolls a deployment back."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "web.md#alb_target_5xx_rate"
    }
    alb_elb_5xx = {
      namespace        = "AWS/ApplicationELB"
      metric           = "HTTPCode_ELB_5XX_Count"
      metrics          = { m = { name = "HTTPCode_ELB_5XX_Count", stat = "Sum" } }
      expression       = null
      dimensions       = local.alb_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "responses"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "reported only when there are errors"
      why              = "The load balancer itself fails requests: no healthy target, target timeouts or resets."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "web.md#alb_elb_5xx"
    }
    alb_p99_latency = {
      namespace        = "AWS/ApplicationELB"
      metric           = "TargetResponseTime p99"
      metrics          = { m = { name = "TargetResponseTime", stat = "p99" } }
      expression       = null
      dimensions       = local.alb_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "ms"
      scale            = 0.001
      missing          = "notBreaching"
      missing_why      = "no requests"
      why              = "The slowest requests are slow enough for users to notice or for the proxy to time out."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "web.md#alb_p99_latency"
    }
    # One group: its metric, as id `m`. Blue/green: both groups' added, in one alarm whichever
    # serves production. Added, not MAX([...]): CloudWatch's metric math reference advises
    # against MAX in alarms, and its arithmetic operators count a missing value as 0 ("Use metric
    # math", CloudWatch User Guide), so the idle group, with no targets to count (UnHealthyHostCount
    # is "Reported if health checks are enabled": 0 or nothing; "CloudWatch metrics for your
    # Application Load Balancer"), adds nothing and cannot alarm. A math alarm can still be a
    # deployment alarm: ECS polls the named alarms' state (DescribeAlarms) and sets no condition on
    # what they watch ("How CloudWatch alarms detect Amazon ECS deployment failures").
    alb_unhealthy_hosts = {
      namespace = "AWS/ApplicationELB"
      metric    = "UnHealthyHostCount"
      metrics = {
        for group in local.target_groups : (local.blue_green ? group.name : "m") => {
          name = "UnHealthyHostCount", stat = "Maximum", dimensions = group.dimensions
        }
      }
      expression       = local.blue_green ? join(" + ", local.target_groups[*].name) : null
      dimensions       = null
      target           = local.blue_green ? " in the ${join(" and ", local.target_groups[*].name)} target groups together" : ""
      comparison       = "GreaterThanThreshold"
      unit             = "targets"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "no targets registered; ecs_running_tasks covers that"
      why              = "A task fails its health check; also rolls a deployment back."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "web.md#alb_unhealthy_hosts"
    }
    alb_rejected_connections = {
      namespace        = "AWS/ApplicationELB"
      metric           = "RejectedConnectionCount"
      metrics          = { m = { name = "RejectedConnectionCount", stat = "Sum" } }
      expression       = null
      dimensions       = local.alb_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "connections"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "reported only when connections are rejected"
      why              = "The load balancer reached its connection limit and turned clients away."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "web.md#alb_rejected_connections"
    }
    ecs_running_tasks = {
      namespace        = "ECS/ContainerInsights"
      metric           = "DesiredTaskCount - RunningTaskCount"
      metrics          = { desired = { name = "DesiredTaskCount", stat = "Average" }, running = { name = "RunningTaskCount", stat = "Average" } }
      expression       = "desired - running"
      dimensions       = local.ecs_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "tasks"
      scale            = 1
      missing          = "breaching"
      missing_why      = "Container Insights reports every minute while the service exists"
      why              = "Tasks crash or cannot start (image, secrets, capacity), so the service runs short."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "service.md#ecs_running_tasks"
    }
    ecs_cpu = {
      namespace        = "AWS/ECS"
      metric           = "CPUUtilization"
      metrics          = { m = { name = "CPUUtilization", stat = "Average" } }
      expression       = null
      dimensions       = local.ecs_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "%"
      scale            = 1
      missing          = "missing"
      missing_why      = "a gap says nothing about load; ecs_running_tasks covers absent tasks"
      why              = "Autoscaling is at its maximum or too slow for the load."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "service.md#ecs_cpu"
    }
    ecs_memory = {
      namespace        = "AWS/ECS"
      metric           = "MemoryUtilization"
      metrics          = { m = { name = "MemoryUtilization", stat = "Average" } }
      expression       = null
      dimensions       = local.ecs_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "%"
      scale            = 1
      missing          = "missing"
      missing_why      = "a gap says nothing about memory; ecs_running_tasks covers absent tasks"
      why              = "Tasks near their memory limit are killed (OutOfMemory) and restarted."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "service.md#ecs_memory"
    }
    rds_cpu = {
      namespace        = "AWS/RDS"
      metric           = "CPUUtilization"
      metrics          = { m = { name = "CPUUtilization", stat = "Average" } }
      expression       = null
      dimensions       = local.rds_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "%"
      scale            = 1
      missing          = "missing"
      missing_why      = "a gap (reboot, failover) is reported by the database rule"
      why              = "Queries saturate the instance (a missing index, a runaway job); burstable classes also spend CPU credits."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "database.md#rds_cpu"
    }
    rds_free_storage = {
      namespace        = "AWS/RDS"
      metric           = "FreeStorageSpace"
      metrics          = { m = { name = "FreeStorageSpace", stat = "Minimum" } }
      expression       = null
      dimensions       = local.rds_dimensions
      comparison       = "LessThanThreshold"
      unit             = "GiB"
      scale            = 1073741824
      missing          = "missing"
      missing_why      = "a gap is not a full disk"
      why              = "Storage autoscaling reached max_allocated_storage or cannot keep up; a full volume stops writes."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "database.md#rds_free_storage"
    }
    rds_freeable_memory = {
      namespace        = "AWS/RDS"
      metric           = "FreeableMemory"
      metrics          = { m = { name = "FreeableMemory", stat = "Minimum" } }
      expression       = null
      dimensions       = local.rds_dimensions
      comparison       = "LessThanThreshold"
      unit             = "MiB"
      scale            = 1048576
      missing          = "missing"
      missing_why      = "a gap is not a memory shortage"
      why              = "The instance swaps or kills backends: too many connections or work_mem for its class."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "database.md#rds_freeable_memory"
    }
    rds_connections = {
      namespace        = "AWS/RDS"
      metric           = "DatabaseConnections"
      metrics          = { m = { name = "DatabaseConnections", stat = "Maximum" } }
      expression       = null
      dimensions       = local.rds_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "connections"
      scale            = 1
      missing          = "missing"
      missing_why      = "a gap is not a connection surge"
      why              = "Close to max_connections, new tasks and jobs cannot connect."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "database.md#rds_connections"
    }
    rds_read_latency = {
      namespace        = "AWS/RDS"
      metric           = "ReadLatency"
      metrics          = { m = { name = "ReadLatency", stat = "Average" } }
      expression       = null
      dimensions       = local.rds_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "ms"
      scale            = 0.001
      missing          = "missing"
      missing_why      = "a gap is not slow storage"
      why              = "Storage is the bottleneck (gp3 throughput or IOPS exhausted), so every query slows."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "database.md#rds_read_latency"
    }
    rds_write_latency = {
      namespace        = "AWS/RDS"
      metric           = "WriteLatency"
      metrics          = { m = { name = "WriteLatency", stat = "Average" } }
      expression       = null
      dimensions       = local.rds_dimensions
      comparison       = "GreaterThanThreshold"
      unit             = "ms"
      scale            = 0.001
      missing          = "missing"
      missing_why      = "a gap is not slow storage"
      why              = "Commits wait on storage (or on the Multi-AZ standby), so every write slows."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "database.md#rds_write_latency"
    }
    cache_cpu = {
      namespace        = "AWS/ElastiCache"
      metric           = "EngineCPUUtilization"
      metrics          = { m = { name = "EngineCPUUtilization", stat = "Average" } }
      expression       = null
      dimensions       = null
      comparison       = "GreaterThanThreshold"
      unit             = "%"
      scale            = 1
      missing          = "missing"
      missing_why      = "a gap (node replacement) is reported on the cache topic"
      why              = "The single engine thread is saturated, so every cache call waits."
      per_cache_member = true
      waf              = false
      log              = null
      runbook          = "cache.md#cache_cpu"
    }
    cache_memory = {
      namespace        = "AWS/ElastiCache"
      metric           = "DatabaseMemoryUsagePercentage"
      metrics          = { m = { name = "DatabaseMemoryUsagePercentage", stat = "Maximum" } }
      expression       = null
      dimensions       = null
      comparison       = "GreaterThanThreshold"
      unit             = "%"
      scale            = 1
      missing          = "missing"
      missing_why      = "a gap is not a full cache"
      why              = "Near maxmemory the engine evicts keys (sessions, cached pages) it would keep."
      per_cache_member = true
      waf              = false
      log              = null
      runbook          = "cache.md#cache_memory"
    }
    cache_evictions = {
      namespace        = "AWS/ElastiCache"
      metric           = "Evictions"
      metrics          = { m = { name = "Evictions", stat = "Sum" } }
      expression       = null
      dimensions       = null
      comparison       = "GreaterThanThreshold"
      unit             = "keys"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "no data, no evictions"
      why              = "Sustained evictions: the node is too small for the working set."
      per_cache_member = true
      waf              = false
      log              = null
      runbook          = "cache.md#cache_evictions"
    }
    cache_connections = {
      namespace        = "AWS/ElastiCache"
      metric           = "CurrConnections"
      metrics          = { m = { name = "CurrConnections", stat = "Maximum" } }
      expression       = null
      dimensions       = null
      comparison       = "GreaterThanThreshold"
      unit             = "connections"
      scale            = 1
      missing          = "missing"
      missing_why      = "a gap is not a connection surge"
      why              = "Connections leak or pile up (every task and worker holds its own)."
      per_cache_member = true
      waf              = false
      log              = null
      runbook          = "cache.md#cache_connections"
    }
    dlq_messages = {
      namespace        = "AWS/SQS"
      metric           = "ApproximateNumberOfMessagesVisible"
      metrics          = { m = { name = "ApproximateNumberOfMessagesVisible", stat = "Maximum" } }
      expression       = null
      dimensions       = { QueueName = var.dead_letter_queue_name }
      comparison       = "GreaterThanThreshold"
      unit             = "messages"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "SQS stops reporting an idle, empty queue"
      why              = "A scheduled job could not be started even after its retries."
      per_cache_member = false
      waf              = false
      log              = null
      runbook          = "jobs.md#dlq_messages"
    }
    app_login_throttle_unavailable = {
      namespace        = local.log_namespace
      metric           = "app log event login_throttle_unavailable"
      metrics          = { m = { name = "app_login_throttle_unavailable", stat = "Sum" } }
      expression       = null
      dimensions       = null
      comparison       = "GreaterThanThreshold"
      unit             = "events"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "a line is counted only when it is logged"
      why              = "Logins are not throttled: the cache that counts failed attempts is unreachable, so password guessing goes unchecked."
      per_cache_member = false
      waf              = false
      log              = { group = "app", pattern = "{ $.event = \"login_throttle_unavailable\" }" }
      runbook          = "cache.md#app_login_throttle_unavailable"
    }
    app_cache_down = {
      namespace        = local.log_namespace
      metric           = "app log event cache_down"
      metrics          = { m = { name = "app_cache_down", stat = "Sum" } }
      expression       = null
      dimensions       = null
      comparison       = "GreaterThanThreshold"
      unit             = "events"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "a line is counted only when it is logged"
      why              = "A task cannot reach the cache (network, TLS or its IAM token) and serves without it: slower pages, no login throttling."
      per_cache_member = false
      waf              = false
      log              = { group = "app", pattern = "{ $.event = \"cache_down\" }" }
      runbook          = "cache.md#app_cache_down"
    }
    app_db_unavailable = {
      namespace        = local.log_namespace
      metric           = "app log event db_unavailable"
      metrics          = { m = { name = "app_db_unavailable", stat = "Sum" } }
      expression       = null
      dimensions       = null
      comparison       = "GreaterThanThreshold"
      unit             = "events"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "a line is counted only when it is logged"
      why              = "The app answers 503: the database is unreachable or refuses the task's IAM token (token failures log no event of their own)."
      per_cache_member = false
      waf              = false
      log              = { group = "app", pattern = "{ $.event = \"db_unavailable\" }" }
      runbook          = "database.md#app_db_unavailable"
    }
    app_readiness_failed = {
      namespace        = local.log_namespace
      metric           = "app log event readiness_failed"
      metrics          = { m = { name = "app_readiness_failed", stat = "Sum" } }
      expression       = null
      dimensions       = null
      comparison       = "GreaterThanThreshold"
      unit             = "events"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "a line is counted only when it is logged"
      why              = "The readiness check (database and cache, run inside a task) failed."
      per_cache_member = false
      waf              = false
      log              = { group = "app", pattern = "{ $.event = \"readiness_failed\" }" }
      runbook          = "web.md#app_readiness_failed"
    }
    app_db_credentials = {
      namespace        = local.log_namespace
      metric           = "migration log: credentials unavailable"
      metrics          = { m = { name = "app_db_credentials", stat = "Sum" } }
      expression       = null
      dimensions       = null
      comparison       = "GreaterThanThreshold"
      unit             = "events"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "a line is counted only when it is logged"
      why              = "The migration cannot read the master credentials (an IAM or KMS denial, or an outage), so releases fail; the line has no event field, so its message is matched."
      per_cache_member = false
      waf              = false
      log              = { group = "batch", pattern = "{ $.message = \"database credentials unavailable from Secrets Manager\" }" }
      runbook          = "jobs.md#app_db_credentials"
    }
    proxy_5xx = {
      namespace        = local.log_namespace
      metric           = "nginx access log status >= 500"
      metrics          = { m = { name = "proxy_5xx", stat = "Sum" } }
      expression       = null
      dimensions       = null
      comparison       = "GreaterThanThreshold"
      unit             = "responses"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "a line is counted only when it is logged"
      why              = "nginx answered with server errors, its own (502, 504: gunicorn down or slow) or the app's; nginx logs every request once, gunicorn's access log is off in the tasks."
      per_cache_member = false
      waf              = false
      log              = { group = "proxy", pattern = "{ $.logger = \"nginx.access\" && $.status >= 500 }" }
      runbook          = "web.md#proxy_5xx"
    }
    waf_blocked_requests = {
      namespace        = "AWS/WAFV2"
      metric           = "BlockedRequests (all rules)"
      metrics          = { m = { name = "BlockedRequests", stat = "Sum" } }
      expression       = null
      dimensions       = try(local.waf_dimensions.all, null)
      comparison       = "GreaterThanThreshold"
      unit             = "requests"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "reported only when a request is blocked"
      why              = "The web ACL blocks a spike of requests: an attack, or a rule blocking real users (a rule in count mode blocks nothing)."
      per_cache_member = false
      waf              = true
      runbook          = "waf.md#waf_blocked_requests"
      log              = null
    }
    waf_login_rate_limited = {
      namespace        = "AWS/WAFV2"
      metric           = "login rate rule BlockedRequests + CountedRequests"
      metrics          = { blocked = { name = "BlockedRequests", stat = "Sum" }, counted = { name = "CountedRequests", stat = "Sum" } }
      expression       = "FILL(blocked, 0) + FILL(counted, 0)"
      dimensions       = try(local.waf_dimensions.login, null)
      comparison       = "GreaterThanThreshold"
      unit             = "requests"
      scale            = 1
      missing          = "notBreaching"
      missing_why      = "reported only when the rule acts"
      why              = "One address sent more login requests than waf.login_rate_limit allows: password guessing, in block and in count mode."
      per_cache_member = false
      waf              = true
      runbook          = "waf.md#waf_login_rate_limited"
      log              = null
    }
  }

  # One alarm per kind, and one per kind and member cluster for the cache ("cache_cpu_001").
  alarms = merge(
    {
      # `target`: what the description adds after the threshold; nothing unless the kind says.
      for kind, spec in local.alarm_kinds : kind => merge({ target = "" }, spec, { kind = kind, dimensions = spec.dimensions })
      if !spec.per_cache_member && (!spec.waf || var.waf != null)
    },
    {
      for pair in setproduct([for kind, spec in local.alarm_kinds : kind if spec.per_cache_member], keys(var.cache_cluster_ids)) :
      "${pair[0]}_${pair[1]}" => merge(local.alarm_kinds[pair[0]], {
        kind       = pair[0]
        dimensions = { CacheClusterId = var.cache_cluster_ids[pair[1]] }
        target     = " (${var.cache_cluster_ids[pair[1]]})"
      })
    },
  )

  # With var.sleeps, the service and the database stop reporting every night: a gap in their
  # metrics is the sleep, not a fault. Treated as not breaching, it neither alarms (ecs_running_tasks
  # counts a gap as breaching otherwise) nor turns the alarm INSUFFICIENT_DATA, whose return to OK
  # each morning would notify. In working hours a stopped database or absent tasks still show in the
  # database rule, app_db_unavailable, alb_unhealthy_hosts and alb_elb_5xx.
  sleeping_namespaces = ["AWS/ECS", "ECS/ContainerInsights", "AWS/RDS"]

  # Alarms that the sleep itself trips and that no gap setting quiets: with no task, the load
  # balancer answers every request (a crawler's at 3 a.m.) with a 503. modules/sleep disables
  # their actions at night and enables them again at the start of working hours.
  quiet_at_night_kinds = ["alb_elb_5xx"]

  # A deployment whose new tasks serve errors or fail their health checks rolls back, even when
  # the tasks pass the container health check (the ecs module's deployment alarms).
  deployment_alarm_kinds = ["alb_target_5xx_rate", "alb_unhealthy_hosts"]

  comparison_signs = { GreaterThanThreshold = ">", LessThanThreshold = "<" }

  alarm_descriptions = {
    for key, alarm in local.alarms : key => format("%s %s %s %s%s. %s Runbook: %s%s",
      alarm.metric, local.comparison_signs[alarm.comparison], var.alarms[alarm.kind].threshold,
    alarm.unit, alarm.target, alarm.why, var.runbook_base_url, alarm.runbook)
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = local.alarms

  alarm_name        = var.names.alarms[each.key]
  alarm_description = local.alarm_descriptions[each.key]

  comparison_operator = each.value.comparison
  threshold           = var.alarms[each.value.kind].threshold * each.value.scale
  evaluation_periods  = var.alarms[each.value.kind].evaluation_periods
  datapoints_to_alarm = var.alarms[each.value.kind].datapoints_to_alarm
  treat_missing_data  = var.sleeps && contains(local.sleeping_namespaces, each.value.namespace) ? "notBreaching" : each.value.missing

  lifecycle {
    # PutMetricAlarm: AlarmDescription is at most 1024 characters; fail the plan, not the apply.
    precondition {
      condition     = length(local.alarm_descriptions[each.key]) <= 1024
      error_message = "The description of alarm ${each.key} is longer than CloudWatch's 1024 characters: shorten its `why` or runbook_base_url."
    }
  }

  # Recovery is news too; INSUFFICIENT_DATA is not (treat_missing_data decides what gaps mean).
  alarm_actions = [aws_sns_topic.alerts.arn]
  ok_actions    = [aws_sns_topic.alerts.arn]

  dynamic "metric_query" {
    for_each = each.value.metrics

    content {
      id          = metric_query.key
      return_data = each.value.expression == null

      metric {
        namespace   = each.value.namespace
        metric_name = metric_query.value.name
        stat        = metric_query.value.stat
        period      = var.alarms[each.value.kind].period
        # A metric may name its own dimensions (one per target group); else the alarm's.
        dimensions = lookup(metric_query.value, "dimensions", each.value.dimensions)
      }
    }
  }

  dynamic "metric_query" {
    for_each = each.value.expression == null ? [] : [each.value.expression]

    content {
      id          = "result"
      expression  = metric_query.value
      label       = each.value.metric
      return_data = true
    }
  }
}

# ---- Log metric filters ----

# The log-based kinds of the catalogue: each counts its matching lines into the metric its alarm
# watches (no default value: a period without a matching line has no data, which the alarm
# treats as not breaching). Named like the alarm they feed.
resource "aws_cloudwatch_log_metric_filter" "this" {
  for_each = { for kind, spec in local.alarm_kinds : kind => spec.log if spec.log != null }

  name           = var.names.alarms[each.key]
  log_group_name = var.log_group_names[each.value.group]
  pattern        = each.value.pattern

  metric_transformation {
    namespace = local.log_namespace
    name      = each.key
    value     = "1"
    unit      = "Count"
  }
}
