"""envs/bootstrap/github_oidc.tf, read as HCL: the GitHub OIDC provider and the trust of its roles.

The trust policies are rebuilt from the parsed blocks and the generated bootstrap.auto.tfvars
(the subject templates of the locals are filled in with its values), then evaluated against
the subjects GitHub issues (tests/iamhelpers.py). tests/github/test_oidc_moto.py checks the same
scenarios on the JSON the AWS provider itself renders.
"""

from __future__ import annotations

import re
from typing import Any

import hcl2
import pytest
from iamhelpers import allows, subject_keys
from tfhelpers import (
    ROOT,
    blocks,
    data_sources,
    literal,
    load_dir,
    locals_of,
    named_blocks,
    resources,
    variables_of,
)

BOOTSTRAP = ROOT / "envs" / "bootstrap"
HOST = "token.actions.githubusercontent.com"
PROVIDER = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


@pytest.fixture(scope="module")
def root() -> dict[str, list[dict[str, Any]]]:
    return load_dir(BOOTSTRAP)


@pytest.fixture(scope="module")
def tfvars() -> dict[str, Any]:
    with (BOOTSTRAP / "bootstrap.auto.tfvars").open(encoding="utf-8") as handle:
        return literal(hcl2.load(handle))


def fill(template: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        assert match.group(1) in values, f"unexpected reference ${{{match.group(1)}}} in {template!r}"
        return values[match.group(1)]

    return re.sub(r"\$\{([a-z_.]+)\}", one, template)


def subjects(expression: str, environments: dict[str, dict[str, str]]) -> list[str]:
    """Evaluate `[for env, deployment in var.github_environments : "TEMPLATE"]` (and its
    values() variant) for the tfvars' environments: the only shapes the locals may take."""
    match = re.search(r'\[for (?:env, )?deployment in (?:values\()?var\.github_environments\)? : "(.*?)"\]',
                      expression)
    assert match, f"the subjects are no longer a plain for expression: {expression}"
    filled = {fill(match.group(1), {"env": env, "deployment.repository": d["repository"],
                                    "deployment.branch": d["branch"]})
              for env, d in environments.items()}
    return sorted(filled)


def trust_policies(root, tfvars) -> dict[str, dict[str, Any]]:
    """The two trust documents as IAM JSON, rebuilt from the HCL."""
    local = locals_of(root)
    document = data_sources(root, "aws_iam_policy_document")["github_trust"]
    (statement,) = blocks(document, "statement")
    (principal,) = blocks(statement, "principals")
    assert principal == {"type": "Federated", "identifiers": ["${local.github_oidc_provider_arn}"]}
    policies = {}
    for role, each in document["for_each"].items():
        values = {"plan": local["github_plan_subjects"], "apply": local["github_apply_subjects"]}
        assert each["subjects"] == f"${{local.github_{role}_subjects}}"
        condition: dict[str, dict[str, list[str]]] = {}
        for block in blocks(statement, "condition"):
            test = each["test"] if block["test"] == "${each.value.test}" else block["test"]
            variable = block["variable"].replace("${local.github_oidc_host}", local["github_oidc_host"])
            listed = subjects(values[role], tfvars["github_environments"]) \
                if block["values"] == "${each.value.subjects}" else block["values"]
            condition.setdefault(test, {})[variable] = listed
        policies[role] = {"Statement": [{"Effect": statement["effect"], "Action": statement["actions"],
                                         "Principal": {"Federated": [PROVIDER]}, "Condition": condition}]}
    return policies


def token(sub: str, aud: str = "sts.amazonaws.com") -> dict[str, str]:
    return {f"{HOST}:sub": sub, f"{HOST}:aud": aud}


REPO = "example-org/django-todo-aws"
# The subjects GitHub issues once the repository's template is repo, context, ref (README).
APPLY_FROM_MAIN = f"repo:{REPO}:environment:prod:ref:refs/heads/main"
PULL_REQUEST = f"repo:{REPO}:pull_request:ref:refs/pull/7/merge"
PUSH_FEATURE = f"repo:{REPO}:ref:refs/heads/feature/x:ref:refs/heads/feature/x"

SCENARIOS = [
    # (subject, audience, plan role may assume, apply role may assume)
    (APPLY_FROM_MAIN, "sts.amazonaws.com", True, True),
    (f"repo:{REPO}:environment:dev:ref:refs/heads/develop", "sts.amazonaws.com", True, True),
    (f"repo:{REPO}:environment:stg:ref:refs/heads/release", "sts.amazonaws.com", True, True),
    # prod's environment from any other branch, or dev's environment from prod's branch
    (f"repo:{REPO}:environment:prod:ref:refs/heads/feature/x", "sts.amazonaws.com", True, False),
    (f"repo:{REPO}:environment:dev:ref:refs/heads/main", "sts.amazonaws.com", True, False),
    (PULL_REQUEST, "sts.amazonaws.com", True, False),
    (PUSH_FEATURE, "sts.amazonaws.com", True, False),
    # GitHub's default template (no ref): plans still work, applies never do
    (f"repo:{REPO}:environment:prod", "sts.amazonaws.com", True, False),
    (f"repo:{REPO}:pull_request", "sts.amazonaws.com", True, False),
    # another repository, or one whose name merely starts the same
    ("repo:example-org/other:environment:prod:ref:refs/heads/main", "sts.amazonaws.com", False, False),
    (f"repo:{REPO}-fork:environment:prod:ref:refs/heads/main", "sts.amazonaws.com", False, False),
    # a token minted for another audience
    (APPLY_FROM_MAIN, f"https://github.com/{REPO.split('/')[0]}", False, False),
]


@pytest.mark.parametrize(("sub", "aud", "plan", "apply"), SCENARIOS)
def test_who_may_assume_which_role(root, tfvars, sub: str, aud: str, plan: bool, apply: bool):
    policies = trust_policies(root, tfvars)
    assert allows(policies["plan"], PROVIDER, token(sub, aud)) is plan
    assert allows(policies["apply"], PROVIDER, token(sub, aud)) is apply


def test_apply_role_trusts_exact_subjects_only(root, tfvars):
    policy = trust_policies(root, tfvars)["apply"]
    ((operator, values),) = subject_keys(policy, f"{HOST}:sub")
    assert operator == "StringEquals"
    assert values and not [v for v in values if "*" in v or "?" in v]
    # one subject per environment, each from its own branch
    assert len(values) == len(tfvars["github_environments"])


def test_both_roles_check_the_audience(root, tfvars):
    for policy in trust_policies(root, tfvars).values():
        assert subject_keys(policy, f"{HOST}:aud") == [("StringEquals", ["sts.amazonaws.com"])]


def test_plan_subjects_end_the_repository_name_with_a_colon(root, tfvars):
    ((operator, values),) = subject_keys(trust_policies(root, tfvars)["plan"], f"{HOST}:sub")
    assert operator == "StringLike"
    assert values == [f"repo:{REPO}:*"]


def test_provider_is_githubs_with_the_sts_audience_and_no_thumbprint(root):
    provider = resources(root, "aws_iam_openid_connect_provider")["github"]
    assert provider["url"] == "https://${local.github_oidc_host}"
    assert locals_of(root)["github_oidc_host"] == HOST
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    # IAM verifies GitHub's certificate with its trusted CAs; a pinned thumbprint only ages.
    assert "thumbprint_list" not in provider
    assert provider["count"] == "${var.github_oidc_provider_arn == null ? 1 : 0}"


def test_branch_validation_refuses_what_would_widen_the_subjects(root):
    variable = variables_of(root)["github_environments"]
    conditions = [v["condition"] for v in blocks(variable, "validation")]
    branch_rule = next(c for c in conditions if "d.branch" in c)
    pattern = re.search(r'regex\("((?:[^"\\]|\\.)*)", d\.branch\)', branch_rule).group(1)
    for good in ("main", "develop", "release/2026-11"):
        assert re.fullmatch(pattern, good), good
    for bad in ("*", "main*", "feature:x", "ma?n", "a b"):
        assert not re.fullmatch(pattern, bad), bad
    assert '!startswith(d.branch, "refs/")' in branch_rule


def test_apply_role_manages_only_the_environments_roles(root, tfvars):
    local = locals_of(root)
    document = data_sources(root, "aws_iam_policy_document")["github_apply_iam"]
    for statement in blocks(document, "statement"):
        assert statement["resources"] == "${local.environment_role_arns}"
        assert not [a for a in statement["actions"] if "*" in a]
    match = re.search(r'\[for env in keys\(var\.github_environments\) : "(.*?)"\]', local["environment_role_arns"])
    patterns = [fill(match.group(1), {"env": env, "var.system": tfvars["system"],
                                      "data.aws_partition.current.partition": "aws",
                                      "data.aws_caller_identity.current.account_id": "123456789012"})
                for env in tfvars["github_environments"]]
    arn = "arn:aws:iam::123456789012:role/{}".format
    like = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                           "Principal": {"Federated": PROVIDER},
                           "Condition": {"StringLike": {"role": patterns}}}]}
    assert allows(like, PROVIDER, {"role": arn("todo-prod-app-web-task-role")})
    # Its own role and the plan role are "-shared-": out of its reach.
    assert not allows(like, PROVIDER, {"role": arn(tfvars["github_apply_role_name"])})
    assert not allows(like, PROVIDER, {"role": arn(tfvars["github_plan_role_name"])})
    (attach,) = [s for s in blocks(document, "statement") if "iam:AttachRolePolicy" in s["actions"]]
    (condition,) = blocks(attach, "condition")
    assert condition["variable"] == "iam:PolicyARN"
    assert condition["values"] == ["${local.managed_policy_prefix}/service-role/*"]


def test_plan_role_reads_state_and_nothing_writable(root):
    attachments = resources(root, "aws_iam_role_policy_attachment")
    assert attachments["github_plan_read_only"]["policy_arn"] == "${local.managed_policy_prefix}/ReadOnlyAccess"
    document = data_sources(root, "aws_iam_policy_document")["github_plan_state"]
    statements = {s["sid"]: s for s in blocks(document, "statement")}
    actions = {a for s in statements.values() for a in s["actions"]}
    assert actions == {"s3:GetObject", "s3:ListBucket", "kms:Decrypt", "secretsmanager:GetRandomPassword"}
    # only the random-password call, which has no resource, is granted on "*"
    assert [sid for sid, s in statements.items() if s["resources"] == ["*"]] == ["EphemeralRandomPassword"]
    assert statements["DecryptState"]["resources"] == ["${aws_kms_key.state.arn}"]


def test_outputs_name_the_roles(root):
    outputs = named_blocks(root, "output")
    for name in ("github_plan_role_arn", "github_apply_role_arn", "github_oidc_provider_arn",
                 "github_apply_subjects"):
        assert outputs[name]["description"], name
