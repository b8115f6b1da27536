# GitHub Actions reaches the environment's account through OpenID Connect: no stored access keys.
# Two roles per environment, each trusted by named jobs of one repository:
# - plan: `terraform plan` of this environment (read-only, ci_policies.tf), for pull requests and
#   for a push to the environment's branch, whose saved plan the reviewers approve before the
#   apply job starts;
# - apply: `terraform apply` of that saved plan, only from the environment's branch inside its
#   GitHub environment (required reviewers for prod), and only under the guards of ci_policies.tf.
#
# Subject claims (docs.github.com, "OpenID Connect reference"): the repository's subject
# template is customised once (docs/github.md) to the keys repo, context and ref. The context
# of a job that names an environment is "environment:NAME", of a pull request "pull_request";
# every key after the first is written as "key:value". So an apply job of prod on main presents
# "repo:OWNER/REPO:environment:prod:ref:refs/heads/main", a pull request's job
# "repo:OWNER/REPO:pull_request:ref:refs/pull/N/merge", and a job of a push to main that names no
# environment (its context is its ref) "repo:OWNER/REPO:ref:refs/heads/main:ref:refs/heads/main".

locals {
  github_oidc_host = "token.actions.githubusercontent.com"

  github_oidc_provider_arn = coalesce(var.github_oidc_provider_arn, one(aws_iam_openid_connect_provider.github[*].arn))

  # One exact subject, no wildcard: this environment, from its own branch only. Another
  # environment's job (another GitHub environment, another branch) presents another subject.
  github_apply_subject = "repo:${var.github_repository}:environment:${var.env}:ref:refs/heads/${var.github_branch}"

  # Pull requests of the repository, and the plan job of a push to this environment's branch: it
  # plans before the GitHub environment's gate, so it names no environment (a job that names one
  # waits for the reviewers before it starts). No other branch, no environment: the apply role
  # alone writes. The colon after the name keeps "OWNER/REPO-other" out; git refuses "*" and "?"
  # in branch names, so the branch subject matches itself only under StringLike.
  github_plan_subjects = [
    "repo:${var.github_repository}:pull_request:*",
    "repo:${var.github_repository}:ref:refs/heads/${var.github_branch}:ref:refs/heads/${var.github_branch}",
  ]
}

# ---- Identity provider ----

# One provider per URL and account: the first environment of an account creates it, the others
# are given its ARN. No thumbprint_list: IAM verifies GitHub's JWKS endpoint with its own
# library of trusted root CAs; "for these IdPs (... GitHub ...) your legacy thumbprint remains
# in your configuration, but is no longer used for validation" (IAM API reference,
# UpdateOpenIDConnectProviderThumbprint).
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
    apply = { test = "StringEquals", subjects = [local.github_apply_subject] }
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

# ---- Roles ----

resource "aws_iam_role" "github_plan" {
  name                 = var.github_plan_role_name
  description          = "GitHub Actions: terraform plan of ${var.env} for pull requests and ${var.github_branch} (read-only, no state lock)."
  assume_role_policy   = data.aws_iam_policy_document.github_trust["plan"].json
  max_session_duration = 3600
}

resource "aws_iam_role" "github_apply" {
  name                 = var.github_apply_role_name
  description          = "GitHub Actions: terraform apply of ${var.env}, from ${var.github_branch} inside the ${var.env} GitHub environment only."
  assume_role_policy   = data.aws_iam_policy_document.github_trust["apply"].json
  max_session_duration = var.apply_max_session_seconds
}
