# ---- Logs ----

locals {
  log_groups = merge(
    {
      app   = var.names.app_log_group
      proxy = var.names.proxy_log_group
      exec  = var.names.exec_log_group
    },
    # Blue/green only: the smoke-test hook's function writes here (smoke_hook.tf), not to a group
    # Lambda would create itself without retention or key.
    local.blue_green ? { smoke_hook = var.names.smoke_hook_log_group } : {},
  )
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.log_groups

  name       = each.value
  kms_key_id = var.kms_key_arn
  # ECS Exec sessions are an audit trail: kept as long as exec_log_retention_days says.
  retention_in_days = each.key == "exec" ? var.exec_log_retention_days : var.log_retention_days
  log_group_class   = var.log_group_class
}
