# The permissions boundary of every role the environment root creates (modules/ecs, batch,
# codepipeline, network, rds set permissions_boundary to it). A role's effective rights are what
# both its own policies and this boundary allow ("Permissions boundaries for IAM entities"):
# whatever policy a role is given, it can never manage IAM, assume another role, or touch
# Organizations or the account, and in a shared account never reach another environment.
# The apply role may create and change roles only with this boundary attached (ci_policies.tf),
# and may not change this policy.
#trivy:ignore:AVD-AWS-0342 A boundary grants nothing by itself; it lets roles pass only this environment's roles, only to ECS tasks, as their own policies do.
data "aws_iam_policy_document" "role_boundary" {
  # checkov:skip=CKV_AWS_107: A permissions boundary grants nothing: it is the ceiling of the environment's roles, whose own policies grant the least they need (IAM User Guide, Permissions boundaries for IAM entities).
  # checkov:skip=CKV_AWS_108: A permissions boundary grants nothing: it is the ceiling of the environment's roles, whose own policies grant the least they need (IAM User Guide, Permissions boundaries for IAM entities).
  # checkov:skip=CKV_AWS_109: A permissions boundary grants nothing: it is the ceiling of the environment's roles, whose own policies grant the least they need (IAM User Guide, Permissions boundaries for IAM entities).
  # checkov:skip=CKV_AWS_110: A permissions boundary grants nothing: it is the ceiling of the environment's roles, whose own policies grant the least they need (IAM User Guide, Permissions boundaries for IAM entities).
  # checkov:skip=CKV_AWS_111: A permissions boundary grants nothing: it is the ceiling of the environment's roles, whose own policies grant the least they need (IAM User Guide, Permissions boundaries for IAM entities).
  # checkov:skip=CKV_AWS_356: A permissions boundary grants nothing: it is the ceiling of the environment's roles, whose own policies grant the least they need (IAM User Guide, Permissions boundaries for IAM entities).
  source_policy_documents = [data.aws_iam_policy_document.peer_guard.json]

  statement {
    sid         = "EverythingButIdentityAndAccount"
    effect      = "Allow"
    not_actions = ["iam:*", "sts:*", "organizations:*", "account:*"]
    resources   = ["*"]
  }

  # The release program (CodeBuild) registers task definitions and the scheduler runs tasks:
  # both pass the environment's task roles, to ECS tasks only (modules/codepipeline and
  # modules/batch, iam.tf). The boundary holds every role to that service as well, so no role
  # policy can ever hand an environment role to another service (IAM User Guide, "IAM and AWS
  # STS condition context keys", iam:PassedToService).
  statement {
    sid       = "PassEnvironmentRoles"
    effect    = "Allow"
    actions   = ["iam:PassRole"]
    resources = [local.environment_roles]

    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ecs-tasks.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "role_boundary" {
  name        = var.role_boundary_policy_name
  description = "Permissions boundary of every role of ${var.system}-${var.env}: no IAM, no role assumption, no other environment."
  policy      = data.aws_iam_policy_document.role_boundary.json
}
