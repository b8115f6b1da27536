locals {
  port = 6379

  # The parameter group family follows engine and major version: valkey 8.2 -> "valkey8",
  # valkey 7.2 -> "valkey7", redis 7.1 -> "redis7".
  engine_major    = split(".", var.engine_version)[0]
  parameter_group = "${var.engine}${local.engine_major}"

  # Failover needs a replica to promote, and Multi-AZ needs failover: both follow the node count.
  replicated = var.num_cache_clusters > 1

  # Windows as minutes, so that a plan can refuse windows ElastiCache would reject at apply
  # time: the weekly maintenance window in minutes of the week, the daily snapshot window in
  # minutes of the day (an end before its start wraps past midnight / the end of the week).
  weekdays = { mon = 0, tue = 1, wed = 2, thu = 3, fri = 4, sat = 5, sun = 6 }

  maintenance_parts = regex("^([a-z]{3}):([0-9]{2}):([0-9]{2})-([a-z]{3}):([0-9]{2}):([0-9]{2})$", var.maintenance_window)
  maintenance_start = local.weekdays[local.maintenance_parts[0]] * 1440 + tonumber(local.maintenance_parts[1]) * 60 + tonumber(local.maintenance_parts[2])
  maintenance_stop  = local.weekdays[local.maintenance_parts[3]] * 1440 + tonumber(local.maintenance_parts[4]) * 60 + tonumber(local.maintenance_parts[5])
  maintenance_end   = local.maintenance_stop > local.maintenance_start ? local.maintenance_stop : local.maintenance_stop + 10080

  snapshot_parts = regex("^([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})$", var.snapshot_window)
  snapshot_start = tonumber(local.snapshot_parts[0]) * 60 + tonumber(local.snapshot_parts[1])
  snapshot_stop  = tonumber(local.snapshot_parts[2]) * 60 + tonumber(local.snapshot_parts[3])
  snapshot_end   = local.snapshot_stop > local.snapshot_start ? local.snapshot_stop : local.snapshot_stop + 1440

  # The snapshot window recurs daily; compare every occurrence that can meet the maintenance
  # window (which may itself run past the end of the week).
  windows_overlap = anytrue([
    for day in range(-1, 15) :
    day * 1440 + local.snapshot_start < local.maintenance_end && local.maintenance_start < day * 1440 + local.snapshot_end
  ])
}

# ---- Network ----

resource "aws_elasticache_subnet_group" "this" {
  name        = var.names.subnet_group
  description = "Private subnets of the cache"
  subnet_ids  = var.private_subnet_ids
}

# No egress rule: cache nodes only answer connections, they initiate none (replication and
# log delivery are handled by the service), so the group needs no outbound rule (Terraform
# removes the default allow-all egress rule of a new group).
resource "aws_security_group" "this" {
  name        = var.names.security_group
  description = "Cache: 6379 from the app security groups only"
  vpc_id      = var.vpc_id
}

# count rather than for_each: the IDs usually come from security groups created in the same
# apply, unknown at plan time, and for_each needs known keys while count needs only the length.
resource "aws_vpc_security_group_ingress_rule" "cache" {
  count = length(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "Valkey/Redis (TLS) from an app security group"
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

# ---- Parameters ----

# The engine defaults suit a Django cache (keys carry a timeout, so volatile-lru eviction
# applies); the group exists so that a parameter can later change without replacing the
# replication group's default group, which cannot be modified.
resource "aws_elasticache_parameter_group" "this" {
  name        = var.names.parameter_group
  family      = local.parameter_group
  description = "${var.engine} ${local.engine_major} parameters of the cache"
}

# ---- Users (IAM authentication) ----

# Clients authenticate as users of a user group (RBAC) instead of with one shared AUTH token,
# and the app's user authenticates with IAM: a SigV4 token signed by the task role, valid 15
# minutes, so no password exists anywhere. ElastiCache's IAM authentication needs Valkey 7.2+
# or Redis OSS 7.0+ (this module's engine versions), TLS, and a user whose user name equals its
# user ID; it closes IAM-authenticated connections after 12 hours.
# https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html
resource "aws_elasticache_user" "app" {
  user_id   = var.names.app_user
  user_name = var.names.app_user
  engine    = var.engine
  # Every key, and every command except the administrative ones (@dangerous: CONFIG, DEBUG,
  # FLUSHALL, KEYS, SHUTDOWN, ...), none of which a Django cache needs.
  access_string = "on ~* +@all -@dangerous"

  authentication_mode {
    type = "iam"
  }
}

# A user group must include a user named "default" (AWS::ElastiCache::UserGroup, UserIds), and
# a valkey-engine group admits only users with a password or IAM. Without this user, the
# connection's implicit default user would be ElastiCache's built-in open one; this one is
# disabled ("off": it cannot authenticate at all) and its password, required by the password
# mode, is random, ephemeral and write-only: never in state, never known to anyone.
ephemeral "aws_secretsmanager_random_password" "default_user" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_elasticache_user" "default" {
  user_id              = var.names.default_user
  user_name            = "default"
  engine               = var.engine
  access_string        = "off -@all"
  passwords_wo         = [ephemeral.aws_secretsmanager_random_password.default_user.random_password]
  passwords_wo_version = 1
}

resource "aws_elasticache_user_group" "this" {
  user_group_id = var.names.user_group
  engine        = var.engine
  user_ids      = [aws_elasticache_user.default.user_id, aws_elasticache_user.app.user_id]
}

# ---- Replication group ----

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.names.replication_group
  description          = "Cache of the application (${var.engine} ${var.engine_version})"
  engine               = var.engine
  engine_version       = var.engine_version
  node_type            = var.node_type
  num_cache_clusters   = var.num_cache_clusters
  port                 = local.port
  parameter_group_name = aws_elasticache_parameter_group.this.name
  subnet_group_name    = aws_elasticache_subnet_group.this.name
  security_group_ids   = [aws_security_group.this.id]

  at_rest_encryption_enabled = true
  kms_key_id                 = var.kms_key_arn
  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  user_group_ids             = [aws_elasticache_user_group.this.user_group_id]

  automatic_failover_enabled = local.replicated
  multi_az_enabled           = local.replicated

  snapshot_retention_limit = var.snapshot_retention_limit
  snapshot_window          = var.snapshot_window
  maintenance_window       = var.maintenance_window

  auto_minor_version_upgrade = true
  # Changes wait for the maintenance window; an operator applies them sooner from the console.
  apply_immediately = false

  notification_topic_arn = var.notification_topic_arn

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  lifecycle {
    precondition {
      condition     = local.snapshot_end - local.snapshot_start >= 60 && local.maintenance_end - local.maintenance_start >= 60
      error_message = "snapshot_window and maintenance_window must each last at least 60 minutes."
    }

    precondition {
      condition     = !local.windows_overlap
      error_message = "snapshot_window (daily) must not overlap maintenance_window (weekly); ElastiCache rejects overlapping windows."
    }
  }
}

# ---- Logs ----

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = var.names.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}
