"""Tests of the IAM identity-policy evaluator in tests/iameval.py."""

from __future__ import annotations

import pytest
from iameval import Request, allowed, evaluate

ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{ACCOUNT}:role"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/todo-dev-ci-boundary"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action="*", resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action="*", resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def create_role(name="todo-dev-x", **context) -> Request:
    return Request("iam:CreateRole", f"{ROLE}/{name}", context)


# --- combining policies ("Policy evaluation logic", "Permissions boundaries for IAM entities") ---


def test_allow_without_deny_is_allow():
    assert evaluate(create_role(), [policy(allow("iam:CreateRole"))]) == "allow"


def test_no_matching_allow_is_implicit_deny():
    assert evaluate(create_role(), [policy(allow("s3:*"))]) == "implicit-deny"


def test_explicit_deny_beats_allow():
    identity = [policy(allow()), policy(deny("iam:CreateRole"))]
    assert evaluate(create_role(), identity) == "explicit-deny"


def test_deny_in_boundary_beats_identity_allow():
    boundary = policy(allow(), deny("iam:*"))
    assert evaluate(create_role(), [policy(allow())], boundary) == "explicit-deny"


def test_boundary_without_allow_is_implicit_deny():
    boundary = policy(allow("s3:*"))
    assert evaluate(create_role(), [policy(allow())], boundary) == "implicit-deny"
    assert allowed(Request("s3:GetObject", "arn:aws:s3:::b/k"), [policy(allow())], boundary)


def test_boundary_alone_grants_nothing():
    assert evaluate(create_role(), [], policy(allow())) == "implicit-deny"


def test_statement_may_be_a_single_object():
    assert allowed(create_role(), [{"Version": "2012-10-17", "Statement": allow("iam:CreateRole")}])


# --- Action / NotAction ---


def test_not_action_allow_like_power_user_access():
    power_user = policy({"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"})
    assert allowed(Request("s3:PutObject", "arn:aws:s3:::b/k"), [power_user])
    assert evaluate(create_role(), [power_user]) == "implicit-deny"


def test_action_match_is_case_insensitive_with_wildcards():
    assert allowed(create_role(), [policy(allow("IAM:create?ole"))])
    assert not allowed(create_role(), [policy(allow("iam:Create?"))])


# --- Resource ("IAM JSON policy elements: Resource") ---


def test_resource_prefix_wildcard():
    identity = [policy(allow("iam:CreateRole", f"{ROLE}/todo-dev-*"))]
    assert allowed(create_role("todo-dev-x"), identity)
    assert not allowed(create_role("todo-prod-x"), identity)


def test_s3_object_wildcard_spans_slashes_but_not_the_bucket_itself():
    identity = [policy(allow("s3:*", "arn:aws:s3:::bucket/*"))]
    assert allowed(Request("s3:GetObject", "arn:aws:s3:::bucket/a/b/c.txt"), identity)
    assert not allowed(Request("s3:ListBucket", "arn:aws:s3:::bucket"), identity)
    assert not allowed(Request("s3:GetObject", "arn:aws:s3:::bucket-other/a"), identity)


def test_wildcard_stays_in_its_segment():
    identity = [policy(allow("logs:*", "arn:aws:logs:us-east-1:1*1:log-group:x"))]
    assert allowed(Request("logs:PutLogEvents", f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:x"), identity)
    # A flat glob over the whole string would let the account's `*` swallow "1:log-group:y:1".
    sneaky = "arn:aws:logs:us-east-1:111:log-group:y:1:log-group:x"
    assert not allowed(Request("logs:PutLogEvents", sneaky), identity)


def test_wildcard_in_account_does_not_swallow_the_region():
    identity = [policy(allow("ecr:*", "arn:aws:ecr:us-east-1:*:repository/todo-*"))]
    assert allowed(Request("ecr:PutImage", f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/todo-web"), identity)
    assert not allowed(Request("ecr:PutImage", f"arn:aws:ecr:eu-west-1:{ACCOUNT}:repository/todo-web"), identity)


def test_trailing_wildcard_of_a_short_pattern_covers_the_rest_of_the_arn():
    identity = [policy(allow("sqs:*", "arn:aws:sqs:*"))]
    assert allowed(Request("sqs:SendMessage", f"arn:aws:sqs:us-east-1:{ACCOUNT}:q"), identity)
    assert not allowed(Request("sqs:SendMessage", f"arn:aws:sns:us-east-1:{ACCOUNT}:q"), identity)


def test_resource_match_is_case_sensitive():
    assert not allowed(create_role("TODO-dev-x"), [policy(allow("iam:*", f"{ROLE}/todo-*"))])


def test_not_resource_covers_everything_not_listed():
    identity = [policy(allow(), {"Effect": "Deny", "Action": "iam:*", "NotResource": f"{ROLE}/todo-dev-*"})]
    assert allowed(create_role("todo-dev-x"), identity)
    assert evaluate(create_role("admin"), identity) == "explicit-deny"


def test_policy_variable_raises():
    with pytest.raises(ValueError, match="policy variables"):
        evaluate(create_role(), [policy(allow("iam:*", f"{ROLE}/${{aws:username}}"))])


# --- Condition ("IAM JSON policy elements: Condition operators") ---

REQUIRE_BOUNDARY = {"StringEquals": {"iam:PermissionsBoundary": BOUNDARY_ARN}}


def test_string_equals_holds_when_key_present_and_equal():
    identity = [policy(allow("iam:CreateRole", Condition=REQUIRE_BOUNDARY))]
    assert allowed(create_role(**{"iam:PermissionsBoundary": BOUNDARY_ARN}), identity)
    assert not allowed(create_role(**{"iam:PermissionsBoundary": BOUNDARY_ARN + "-x"}), identity)


def test_string_equals_fails_when_key_absent():
    identity = [policy(allow("iam:CreateRole", Condition=REQUIRE_BOUNDARY))]
    assert evaluate(create_role(), identity) == "implicit-deny"


def test_context_keys_are_case_insensitive():
    identity = [policy(allow("iam:CreateRole", Condition=REQUIRE_BOUNDARY))]
    assert allowed(create_role(**{"IAM:permissionsboundary": BOUNDARY_ARN}), identity)


def test_string_not_equals_if_exists():
    condition = {"StringNotEqualsIfExists": {"iam:PermissionsBoundary": BOUNDARY_ARN}}
    identity = [policy(allow(), deny("iam:*", Condition=condition))]
    assert evaluate(create_role(), identity) == "explicit-deny"  # absent: IfExists makes it hold
    assert evaluate(create_role(**{"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/X"}), identity) == (
        "explicit-deny"
    )
    assert allowed(create_role(**{"iam:PermissionsBoundary": BOUNDARY_ARN}), identity)


def test_if_exists_makes_a_positive_operator_hold_when_key_absent():
    condition = {"StringEqualsIfExists": {"iam:PermissionsBoundary": BOUNDARY_ARN}}
    identity = [policy(allow("iam:CreateRole", Condition=condition))]
    assert allowed(create_role(), identity)
    assert not allowed(create_role(**{"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/X"}), identity)


def test_negated_operator_with_absent_key_holds():
    # Docs: if the policy requires the key to not match (StringNotLike, ArnNotLike) and it is absent, true.
    identity = [policy(allow(), deny("iam:*", Condition={"ArnNotLike": {"iam:PermissionsBoundary": BOUNDARY_ARN}}))]
    assert evaluate(create_role(), identity) == "explicit-deny"


def test_negated_operator_with_several_values_holds_when_none_match():
    condition = {"StringNotLike": {"aws:RequestedRegion": ["us-east-1", "eu-*"]}}
    identity = [policy(allow(), deny("*", Condition=condition))]
    assert allowed(create_role(**{"aws:RequestedRegion": "eu-west-1"}), identity)
    assert evaluate(create_role(**{"aws:RequestedRegion": "ap-south-1"}), identity) == "explicit-deny"


def test_arn_like():
    condition = {"ArnLike": {"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/todo-*-boundary"}}
    identity = [policy(allow("iam:CreateRole", Condition=condition))]
    assert allowed(create_role(**{"iam:PermissionsBoundary": BOUNDARY_ARN}), identity)
    assert not allowed(create_role(**{"iam:PermissionsBoundary": f"arn:aws:iam::{ACCOUNT}:policy/admin"}), identity)


def test_null_true_holds_only_when_key_absent():
    identity = [policy(allow(), deny("iam:CreateRole", Condition={"Null": {"iam:PermissionsBoundary": "true"}}))]
    assert evaluate(create_role(), identity) == "explicit-deny"
    assert allowed(create_role(**{"iam:PermissionsBoundary": BOUNDARY_ARN}), identity)


def test_null_false_holds_only_when_key_present():
    identity = [policy(allow("iam:CreateRole", Condition={"Null": {"iam:PermissionsBoundary": "false"}}))]
    assert allowed(create_role(**{"iam:PermissionsBoundary": BOUNDARY_ARN}), identity)
    assert not allowed(create_role(), identity)


def test_for_any_value_string_like():
    identity = [policy(allow(), deny("iam:TagRole", Condition={"ForAnyValue:StringLike": {"aws:TagKeys": "aws:*"}}))]
    tag = Request("iam:TagRole", f"{ROLE}/todo-dev-x", {"aws:TagKeys": ["Owner", "aws:cloudformation:x"]})
    assert evaluate(tag, identity) == "explicit-deny"
    assert allowed(Request("iam:TagRole", tag.resource, {"aws:TagKeys": ["Owner", "Team"]}), identity)
    assert allowed(Request("iam:TagRole", tag.resource), identity)  # absent key: ForAnyValue is false


def test_for_all_values_holds_when_key_absent():
    condition = {"ForAllValues:StringEquals": {"aws:TagKeys": ["Owner", "Team"]}}
    identity = [policy(allow("iam:TagRole", Condition=condition))]
    assert allowed(Request("iam:TagRole", "*"), identity)
    assert allowed(Request("iam:TagRole", "*", {"aws:TagKeys": ["Owner"]}), identity)
    assert not allowed(Request("iam:TagRole", "*", {"aws:TagKeys": ["Owner", "Admin"]}), identity)


def test_operators_and_keys_are_anded_values_ored():
    condition = {
        "StringEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"], "aws:PrincipalTag/team": "todo"},
        "Bool": {"aws:SecureTransport": True},
    }
    identity = [policy(allow(Condition=condition))]
    ok = {"aws:RequestedRegion": "eu-west-1", "aws:PrincipalTag/team": "todo", "aws:SecureTransport": "true"}
    assert allowed(Request("s3:GetObject", "*", ok), identity)
    for key, bad in [
        ("aws:RequestedRegion", "ap-south-1"),
        ("aws:PrincipalTag/team", "x"),
        ("aws:SecureTransport", "false"),
    ]:
        assert not allowed(Request("s3:GetObject", "*", {**ok, key: bad}), identity), key


def test_numeric_operator():
    identity = [policy(allow(Condition={"NumericLessThanEquals": {"s3:max-keys": "10"}}))]
    assert allowed(Request("s3:ListBucket", "*", {"s3:max-keys": "10"}), identity)
    assert not allowed(Request("s3:ListBucket", "*", {"s3:max-keys": "11"}), identity)


def test_unknown_operator_raises():
    identity = [policy(allow(Condition={"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}))]
    with pytest.raises(ValueError, match="DateGreaterThan"):
        evaluate(create_role(), identity)


def test_multivalued_context_without_set_operator_raises():
    identity = [policy(allow(Condition={"StringEquals": {"aws:TagKeys": "Owner"}}))]
    with pytest.raises(ValueError, match="multivalued"):
        evaluate(Request("iam:TagRole", "*", {"aws:TagKeys": ["Owner", "Team"]}), identity)
