# GitHub Actions reaches this account through OpenID Connect: no stored access keys. Two roles:
# a read-only plan role that any branch and pull request of the repositories may assume, and an
# apply role that only the environments' branches, inside their GitHub environment, may assume.
#
# Subject claims (docs.github.com, "OpenID Connect reference", example subject claims): a job
# that names an environment gets "repo:OWNER/REPO:environment:NAME", others
# "repo:OWNER/REPO:ref:refs/heads/BRANCH" or "repo:OWNER/REPO:pull_request". The repository's
# subject template is customised once (README, "GitHub") to the keys repo, context and ref, so
# that an apply job's subject names both its environment and its branch:
# "repo:OWNER/REPO:environment:prod:ref:refs/heads/main".

locals {
  github_oidc_host = "token.actions.githubusercontent.com"

  github_oidc_provider_arn = coalesce(var.github_oidc_provider_arn, one(aws_iam_openid_connect_provider.github[*].arn))

  # Exact subjects, no wildcard: each environment from its own branch only.
  github_apply_subjects = sort([
    for env, deployment in var.github_environments :
    "repo:${deployment.repository}:environment:${env}:ref:refs/heads/${deployment.branch}"
  ])

  # Any branch, pull request or environment of the repositories; the colon after the name
  # keeps "OWNER/REPO-other" out.
  github_plan_subjects = sort(distinct([
    for deployment in values(var.github_environments) : "repo:${deployment.repository}:*"
  ]))

  managed_policy_prefix = "arn:${data.aws_partition.current.partition}:iam::aws:policy"
  environment_role_arns = sort([
    for env in keys(var.github_environments) :
    "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/${var.system}-${env}-*"
  ])
}

# ---- Identity provider ----

# One provider per URL and account: an account that already has GitHub's passes its ARN instead.
# No thumbprint_list: IAM verifies GitHub's JWKS endpoint with its own library of trusted root
# CAs; "for these IdPs (... GitHub ...) your legacy thumbprint remains in your configuration, but
# is no longer used for validation" (IAM API reference, UpdateOpenIDConnectProviderThumbprint).
resource "aws_iam_openid_connect_provider" "github" {
  count = var.github_oidc_provider_arn == null ? 1 : 0

  url = "https://${local.github_oidc_host}"
  # The audience aws-actions/configure-aws-credentials requests (docs.github.com, "Configuring
  # OpenID Connect in Amazon Web Services": "For the Audience: use sts.amazonaws.com").
  client_id_list = ["sts.amazonaws.com"]
}

# ---- Trust policies ----

data "aws_iam_policy_document" "github_trust" {
  for_each = {
    plan  = { test = "StringLike", subjects = local.github_plan_subjects }
    apply = { test = "StringEquals", subjects = local.github_apply_subjects }
  }

  statement {
    sid     = "GitHubActions"
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.github_oidc_provider_arn]
    }

    # The keys are the provider's host and the claim. docs.github.com, "Configuring OpenID Connect
    # in Amazon Web Services": "AWS IAM recommends that users evaluate the IAM condition key,
    # token.actions.githubusercontent.com:sub, in the trust policy of any role that trusts
    # GitHub's OIDC identity provider", beside "token.actions.githubusercontent.com:aud":
    # "sts.amazonaws.com" in its example (StringEquals for both).
    condition {
      test     = "StringEquals"
      variable = "${local.github_oidc_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = each.value.test
      variable = "${local.github_oidc_host}:sub"
      values   = each.value.subjects
    }
  }
}

# ---- Plan role ----

resource "aws_iam_role" "github_plan" {
  name                 = var.github_plan_role_name
  description          = "GitHub Actions: terraform plan of pull requests (read-only, no state lock)."
  assume_role_policy   = data.aws_iam_policy_document.github_trust["plan"].json
  max_session_duration = 3600
}

# ReadOnlyAccess reads every resource a plan refreshes; it grants no kms:Decrypt, so it cannot
# read SecureString parameters, secrets or state. The statement below adds the state alone.
resource "aws_iam_role_policy_attachment" "github_plan_read_only" {
  role       = aws_iam_role.github_plan.name
  policy_arn = "${local.managed_policy_prefix}/ReadOnlyAccess"
}

data "aws_iam_policy_document" "github_plan_state" {
  statement {
    sid       = "ReadState"
    effect    = "Allow"
    actions   = ["s3:GetObject"]
    resources = ["${module.state_bucket.arn}/*"]
  }

  statement {
    sid       = "ListState"
    effect    = "Allow"
    actions   = ["s3:ListBucket"]
    resources = [module.state_bucket.arn]
  }

  # The state objects are SSE-KMS: reading them takes kms:Decrypt on their key, and only it.
  statement {
    sid       = "DecryptState"
    effect    = "Allow"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.state.arn]
  }

  # A plan opens the ssm module's ephemeral aws_secretsmanager_random_password, which calls
  # GetRandomPassword: it reads no secret, and takes no resource ("*" is its only form in the
  # Secrets Manager service authorization reference).
  statement {
    sid       = "EphemeralRandomPassword"
    effect    = "Allow"
    actions   = ["secretsmanager:GetRandomPassword"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "github_plan_state" {
  name   = var.github_plan_policy_name
  role   = aws_iam_role.github_plan.id
  policy = data.aws_iam_policy_document.github_plan_state.json
}

# ---- Apply role ----

resource "aws_iam_role" "github_apply" {
  name                 = var.github_apply_role_name
  description          = "GitHub Actions: terraform apply of the environment roots, from the environments' branches only."
  assume_role_policy   = data.aws_iam_policy_document.github_trust["apply"].json
  max_session_duration = 3600
}

# PowerUserAccess: every service except IAM, Organizations and Account management (it keeps
# iam:CreateServiceLinkedRole, which ECS, RDS, ElastiCache and load balancing need once).
resource "aws_iam_role_policy_attachment" "github_apply_power_user" {
  role       = aws_iam_role.github_apply.name
  policy_arn = "${local.managed_policy_prefix}/PowerUserAccess"
}

# IAM only for the roles of the environment roots (their names start with "{system}-{env}-";
# these two roles are "{system}-shared-...", out of reach, so the apply role cannot widen its own
# rights), and only AWS's service-role policies may be attached to them (RDS enhanced monitoring).
data "aws_iam_policy_document" "github_apply_iam" {
  statement {
    sid    = "ManageProjectRoles"
    effect = "Allow"
    actions = [
      "iam:CreateRole",
      "iam:DeleteRole",
      "iam:DeleteRolePolicy",
      "iam:GetRole",
      "iam:GetRolePolicy",
      "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole",
      "iam:ListRolePolicies",
      "iam:ListRoleTags",
      "iam:PassRole",
      "iam:PutRolePolicy",
      "iam:TagRole",
      "iam:UntagRole",
      "iam:UpdateAssumeRolePolicy",
      "iam:UpdateRole",
      "iam:UpdateRoleDescription",
    ]
    resources = local.environment_role_arns
  }

  statement {
    sid       = "AttachServiceRolePolicies"
    effect    = "Allow"
    actions   = ["iam:AttachRolePolicy", "iam:DetachRolePolicy"]
    resources = local.environment_role_arns

    condition {
      test     = "ArnLike"
      variable = "iam:PolicyARN"
      values   = ["${local.managed_policy_prefix}/service-role/*"]
    }
  }
}

resource "aws_iam_role_policy" "github_apply_iam" {
  name   = var.github_apply_policy_name
  role   = aws_iam_role.github_apply.id
  policy = data.aws_iam_policy_document.github_apply_iam.json
}
