locals {
  port = 5432

  # The parameter group family follows the major version: "17.6" -> "postgres17".
  engine_major    = split(".", var.engine_version)[0]
  parameter_group = "postgres${local.engine_major}"

  # Windows as minutes, so that a plan can refuse windows RDS would reject at apply time:
  # the weekly maintenance window in minutes of the week, the daily backup window in minutes
  # of the day (an end before its start wraps past midnight / the end of the week).
  weekdays = { mon = 0, tue = 1, wed = 2, thu = 3, fri = 4, sat = 5, sun = 6 }

  maintenance_parts = regex("^([a-z]{3}):([0-9]{2}):([0-9]{2})-([a-z]{3}):([0-9]{2}):([0-9]{2})$", var.maintenance_window)
  maintenance_start = local.weekdays[local.maintenance_parts[0]] * 1440 + tonumber(local.maintenance_parts[1]) * 60 + tonumber(local.maintenance_parts[2])
  maintenance_stop  = local.weekdays[local.maintenance_parts[3]] * 1440 + tonumber(local.maintenance_parts[4]) * 60 + tonumber(local.maintenance_parts[5])
  maintenance_end   = local.maintenance_stop > local.maintenance_start ? local.maintenance_stop : local.maintenance_stop + 10080

  backup_parts = regex("^([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})$", var.backup_window)
  backup_start = tonumber(local.backup_parts[0]) * 60 + tonumber(local.backup_parts[1])
  backup_stop  = tonumber(local.backup_parts[2]) * 60 + tonumber(local.backup_parts[3])
  backup_end   = local.backup_stop > local.backup_start ? local.backup_stop : local.backup_stop + 1440

  # The backup window recurs daily; compare every occurrence that can meet the maintenance
  # window (which may itself run past the end of the week).
  windows_overlap = anytrue([
    for day in range(-1, 15) :
    day * 1440 + local.backup_start < local.maintenance_end && local.maintenance_start < day * 1440 + local.backup_end
  ])
}

# ---- App role (IAM authentication) ----

locals {
  # What rds-db:connect is granted on: one database user of this instance, by resource ID
  # (which survives a rename of the instance), not the instance identifier.
  # https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.IAMPolicy.html
  app_connect_arn = "arn:${data.aws_partition.current.partition}:rds-db:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}:dbuser:${aws_db_instance.this.resource_id}/${var.app_username}"
}

# ---- Network ----

resource "aws_db_subnet_group" "this" {
  name        = var.names.subnet_group
  description = "Private subnets of the PostgreSQL instance"
  subnet_ids  = var.private_subnet_ids
}

# No egress rule: RDS only answers connections, it initiates none, so the group needs no
# outbound rule (Terraform removes the default allow-all egress rule of a new group).
resource "aws_security_group" "this" {
  name        = var.names.security_group
  description = "PostgreSQL: 5432 from the app security groups only"
  vpc_id      = var.vpc_id
}

# count rather than for_each: the IDs usually come from security groups created in the same
# apply, unknown at plan time, and for_each needs known keys while count needs only the length.
resource "aws_vpc_security_group_ingress_rule" "postgres" {
  count = length(var.allowed_security_group_ids)

  security_group_id            = aws_security_group.this.id
  description                  = "PostgreSQL from an app security group"
  referenced_security_group_id = var.allowed_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = local.port
  to_port                      = local.port
}

# ---- Parameters ----

# Every parameter set here is dynamic in RDS for PostgreSQL 16+, so the default apply method
# ("immediate") is right; a static parameter would need apply_method = "pending-reboot".
resource "aws_db_parameter_group" "this" {
  name        = var.names.parameter_group
  family      = local.parameter_group
  description = "PostgreSQL ${local.engine_major}: TLS only, connection and slow statement logging"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.log_min_duration_ms)
  }

  parameter {
    name  = "log_connections"
    value = "1"
  }

  parameter {
    name  = "log_disconnections"
    value = "1"
  }

  # Schema changes (CREATE/ALTER/DROP) are logged for audit; data statements are not, so that
  # no row content reaches the logs.
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
}

# ---- Exported logs ----

# RDS writes its exported logs to log groups whose names it derives from the identifier. Left to
# RDS they are created unencrypted and kept forever; created here first, they use the project
# key and a retention period. The names come in from the renderer (naming.yaml, derived).
resource "aws_cloudwatch_log_group" "exports" {
  for_each = var.names.log_groups

  name              = each.value
  kms_key_id        = var.kms_key_arn
  retention_in_days = var.log_retention_days
}

# ---- Database instance ----

resource "aws_db_instance" "this" {
  identifier     = var.names.instance
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  storage_type          = "gp3"
  allocated_storage     = var.allocated_storage
  max_allocated_storage = var.max_allocated_storage
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_name  = var.db_name
  username = var.username
  # RDS generates the password and keeps it in Secrets Manager, encrypted with the project key:
  # no password in code, variables or state.
  manage_master_user_password         = true
  master_user_secret_kms_key_id       = var.kms_key_arn
  iam_database_authentication_enabled = true

  port                   = local.port
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.this.id]
  parameter_group_name   = aws_db_parameter_group.this.name
  publicly_accessible    = false
  multi_az               = var.multi_az
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  backup_retention_period = var.backup_retention_days
  backup_window           = var.backup_window
  maintenance_window      = var.maintenance_window
  copy_tags_to_snapshot   = true
  deletion_protection     = var.deletion_protection
  skip_final_snapshot     = !var.final_snapshot
  # Deleting the instance deletes its automated backups too unless this is false; kept, they stay
  # restorable (point in time included) until their retention ends (RDS DeleteDBInstance,
  # DeleteAutomatedBackups).
  delete_automated_backups = !var.keep_automated_backups_on_delete
  # One final snapshot per deletion: RDS refuses a snapshot identifier that already exists, so a
  # fixed name would make the second deletion of this environment's database fail. The renderer's
  # name (naming.yaml) gets the instance's creation time, taken once at create (ignore_changes
  # below): a re-created instance gets a new one. The only name a module extends: the part it adds
  # is known only at apply.
  final_snapshot_identifier = "${var.names.final_snapshot}-${formatdate("YYYYMMDDhhmmss", timestamp())}"

  auto_minor_version_upgrade = true
  # Changes wait for the maintenance window; an operator applies them sooner from the console.
  apply_immediately = false

  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = var.performance_insights_retention_days
  enabled_cloudwatch_logs_exports       = sort(keys(aws_cloudwatch_log_group.exports))
  monitoring_interval                   = var.monitoring_interval
  monitoring_role_arn                   = aws_iam_role.monitoring.arn

  lifecycle {
    ignore_changes = [final_snapshot_identifier]

    precondition {
      condition     = local.backup_end - local.backup_start >= 30 && local.maintenance_end - local.maintenance_start >= 30
      error_message = "backup_window and maintenance_window must each last at least 30 minutes."
    }

    precondition {
      condition     = !local.windows_overlap
      error_message = "backup_window (daily) must not overlap maintenance_window (weekly); RDS rejects overlapping windows."
    }
  }

  depends_on = [aws_iam_role_policy_attachment.monitoring]
}
