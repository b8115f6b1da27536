# ---- Deployed image ----

# The tag of the app and proxy images the pipeline deployed last: the one fact both sides share.
# The deploy program (deploy/) writes it once a release's migration has succeeded; Terraform reads
# it back for every task definition it registers, so a settings change never starts a task with
# an older image (or the placeholder), and `terraform apply` never reverts a deploy.
resource "aws_ssm_parameter" "image_tag" {
  # checkov:skip=CKV2_AWS_34: An image tag (a commit SHA) is public information, not a secret; a String keeps it readable by Terraform's data source without key grants.
  name        = var.names.image_tag_parameter
  description = "Tag of the app and proxy images deployed last; written by the pipeline, read by Terraform."
  type        = "String"
  tier        = "Standard"
  # Only the first apply writes this placeholder; the pipeline owns the value afterwards.
  value = var.bootstrap_image_tag

  lifecycle {
    ignore_changes = [value]
  }
}

# Read at plan time (the parameter resource has no pending change once it exists), so the plan
# shows the image the task definitions will carry.
data "aws_ssm_parameter" "image_tag" {
  name = aws_ssm_parameter.image_tag.name
}

locals {
  image_tag = data.aws_ssm_parameter.image_tag.insecure_value
}
