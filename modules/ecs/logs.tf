# ---- Logs ----

locals {
  log_groups = {
    app   = var.names.app_log_group
    proxy = var.names.proxy_log_group
    exec  = var.names.exec_log_group
  }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.log_groups

  name       = each.value
  kms_key_id = var.kms_key_arn
  # ECS Exec sessions are an audit trail: kept as long as exec_log_retention_days says.
  retention_in_days = each.key == "exec" ? var.exec_log_retention_days : var.log_retention_days
  log_group_class   = var.log_group_class
}
