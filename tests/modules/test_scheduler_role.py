"""modules/scheduler_role: the execution role of one EventBridge Scheduler schedule group."""

from __future__ import annotations

from tfhelpers import blocks, data_sources, module_fixture, resources, statements_of

parsed = module_fixture("scheduler_role")


def test_role_trusts_this_accounts_schedules_of_its_group_only(parsed):
    (trust,) = statements_of(data_sources(parsed, "aws_iam_policy_document")["assume"])
    assert trust["actions"] == ["sts:AssumeRole"]
    assert blocks(trust, "principals")[0]["identifiers"] == ["scheduler.amazonaws.com"]
    conditions = {c["variable"]: c for c in blocks(trust, "condition")}
    assert set(conditions) == {"aws:SourceAccount", "aws:SourceArn"}
    assert conditions["aws:SourceAccount"]["test"] == "StringEquals"
    assert conditions["aws:SourceAccount"]["values"] == ["${local.account_id}"]
    # EventBridge Scheduler's confused-deputy guidance: aws:SourceArn is the schedule GROUP's ARN,
    # never a schedule or a schedule-name pattern (Scheduler sends the group ARN as the source).
    assert conditions["aws:SourceArn"]["test"] == "ArnEquals"
    assert conditions["aws:SourceArn"]["values"] == [
        "arn:${local.partition}:scheduler:${local.region}:${local.account_id}:schedule-group/${var.schedule_group_name}"
    ]


def test_role_has_the_boundary_and_only_the_callers_inline_policy(parsed):
    role = resources(parsed, "aws_iam_role")["this"]
    assert role["assume_role_policy"] == "${data.aws_iam_policy_document.assume.json}"
    assert role["permissions_boundary"] == "${var.permissions_boundary_arn}"
    assert "managed_policy_arns" not in role
    assert not resources(parsed, "aws_iam_role_policy_attachment")
    policy = resources(parsed, "aws_iam_role_policy")["this"]
    assert policy["role"] == "${aws_iam_role.this.id}"
    assert policy["policy"] == "${var.policy_json}"
