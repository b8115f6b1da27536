data "aws_partition" "current" {}

locals {
  partition = data.aws_partition.current.partition

  # Backup Vault Lock: without changeable_for_days the lock is in governance mode (removable by
  # whoever may call DeleteBackupVaultLockConfiguration); with it, the lock turns into compliance
  # mode once that many days have passed and nobody can remove it any more, not even the
  # account's root user (AWS Backup Developer Guide, "AWS Backup Vault Lock";
  # PutBackupVaultLockConfiguration, ChangeableForDays, at least 3).
  lock_enabled        = var.vault_lock.mode != "none"
  changeable_for_days = var.vault_lock.mode == "compliance" ? var.vault_lock.grace_days : null
}

# ---- Vault ----

# The database's snapshots and its continuous backup stay encrypted with the database's own key:
# RDS is not a resource type AWS Backup encrypts independently, its recovery points inherit the
# source's encryption ("Encryption for backups in AWS Backup"). The vault key encrypts what
# AWS Backup does encrypt itself, and it is the environment's key too.
resource "aws_backup_vault" "this" {
  name        = var.names.vault
  kms_key_arn = var.kms_key_arn
  # false: `terraform destroy` fails on a vault that still holds recovery points instead of
  # deleting them; the recovery points outlive the environment (docs/recovery.md).
  force_destroy = var.force_destroy
}

resource "aws_backup_vault_lock_configuration" "this" {
  count = local.lock_enabled ? 1 : 0

  backup_vault_name   = aws_backup_vault.this.name
  min_retention_days  = var.vault_lock.min_retention_days
  max_retention_days  = var.vault_lock.max_retention_days
  changeable_for_days = local.changeable_for_days
}

# ---- Plan ----

resource "aws_backup_plan" "this" {
  name = var.names.plan

  # Daily snapshots, copied to the second region's vault when there is one.
  rule {
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.this.name
    schedule          = var.schedule
    # Minutes: a job that has not started within an hour is skipped (and reported), rather than
    # drifting into the day's traffic; a snapshot of this size finishes well within three hours.
    start_window      = 60
    completion_window = 180

    lifecycle {
      delete_after = var.retention_days
    }

    dynamic "copy_action" {
      for_each = var.copy == null ? [] : [var.copy]
      content {
        destination_vault_arn = copy_action.value.vault_arn

        lifecycle {
          delete_after = copy_action.value.retention_days
        }
      }
    }
  }

  # Continuous backup (point-in-time recovery) of the database: AWS Backup takes over its
  # automated backups. At most 35 days ("Continuous backups and point-in-time recovery"); the
  # root passes the database's own backup_retention_days, so RDS and AWS Backup keep one window.
  dynamic "rule" {
    for_each = var.continuous_retention_days == null ? [] : [var.continuous_retention_days]
    content {
      rule_name                = "continuous"
      target_vault_name        = aws_backup_vault.this.name
      schedule                 = var.schedule
      enable_continuous_backup = true
      start_window             = 60
      completion_window        = 180

      lifecycle {
        delete_after = rule.value
      }
    }
  }
}

resource "aws_backup_selection" "database" {
  name         = var.names.selection
  plan_id      = aws_backup_plan.this.id
  iam_role_arn = aws_iam_role.this.arn
  resources    = [var.db_instance_arn]
}
