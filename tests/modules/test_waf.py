"""modules/waf: the web ACL in front of the load balancer, read from its HCL and the app's URLs."""

from __future__ import annotations

import re
from pathlib import Path

from tfhelpers import blocks, data_sources, locals_of, module_fixture, resources, statements_of, variables_of

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_GROUPS = {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet",
                   "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesAmazonIpReputationList"}

parsed = module_fixture("waf")


def _acl(parsed) -> dict:
    return resources(parsed, "aws_wafv2_web_acl")["this"]


def test_the_acl_is_regional_and_associated_with_the_load_balancer(parsed):
    assert _acl(parsed)["scope"] == "REGIONAL"  # CLOUDFRONT ACLs cannot be associated with an ALB
    association = resources(parsed, "aws_wafv2_web_acl_association")["this"]
    assert association == {"resource_arn": "${var.alb_arn}", "web_acl_arn": "${aws_wafv2_web_acl.this.arn}"}


def test_every_required_managed_rule_group_is_evaluated(parsed):
    groups = {spec["name"] for spec in locals_of(parsed)["managed_rule_groups"].values()}
    static = {rule["name"] for rule in blocks(_acl(parsed), "rule")}
    assert REQUIRED_GROUPS <= groups | static
    # Every rule key of the YAML but the rate rule is a group the ACL switches between block and count.
    assert set(locals_of(parsed)["managed_rule_groups"]) | {"login_rate"} == set(
        variables_of(parsed)["rule_actions"]["type"].removeprefix("${object({").split("})}")[0]
        .replace("=", " ").replace(",", " ").split()[0::2])


def test_known_bad_inputs_always_blocks(parsed):
    """Log4Shell payloads are never a user's request: the group is never switched to count."""
    rule = next(r for r in blocks(_acl(parsed), "rule") if r["name"] == "AWSManagedRulesKnownBadInputsRuleSet")
    assert blocks(rule, "override_action") == [{"none": [{}]}]


def _app_login_paths() -> set[str]:
    """The login URLs Django serves: the app's login view under its include, and the admin's."""
    urls = (ROOT / "app/config/urls.py").read_text()
    auth = (ROOT / "app/todo/auth_urls.py").read_text()
    prefix = re.search(r'path\("([^"]*)", include\("todo\.auth_urls"\)\)', urls).group(1)
    login = re.search(r'path\("([^"]*)", auth_views\.LoginView', auth).group(1)
    admin = re.search(r'path\("([^"]*)", admin\.site\.urls\)', urls).group(1)
    return {f"/{prefix}{login}", f"/{admin}login/"}


def test_the_rate_rule_covers_exactly_the_login_pages(parsed):
    assert set(locals_of(parsed)["login_paths"]) == _app_login_paths()


def test_rate_limit_bounds_follow_waf(parsed):
    condition = variables_of(parsed)["login_rate"]["validation"][0]["condition"]
    assert "var.login_rate.limit >= 10" in condition  # WAF's lowest limit
    assert "[60, 120, 300, 600]" in condition          # WAF's evaluation windows


def test_the_log_group_has_the_waf_prefix_and_is_encrypted(parsed):
    condition = variables_of(parsed)["names"]["validation"][1]["condition"]
    pattern = re.search(r'regex\("([^"]*)", var\.names\.log_group', condition).group(1)
    assert re.fullmatch(pattern, "aws-waf-logs-todo-dev-web-waf-main-acl")
    assert not re.fullmatch(pattern, "/todo/dev/web/waf/logs")
    group = resources(parsed, "aws_cloudwatch_log_group")["this"]
    assert group["kms_key_id"] == "${var.kms_key_arn}"
    assert group["retention_in_days"] == "${var.log_retention_days}"


def test_credentials_and_cookies_are_redacted_from_the_log(parsed):
    logging = resources(parsed, "aws_wafv2_web_acl_logging_configuration")["this"]
    assert logging["log_destination_configs"] == ["${aws_cloudwatch_log_group.this.arn}"]
    redacted = {field["single_header"][0]["name"] for field in blocks(logging, "redacted_fields")}
    assert redacted == {"authorization", "cookie"}


def test_log_delivery_may_write_to_this_log_group_only(parsed):
    [statement] = statements_of(data_sources(parsed, "aws_iam_policy_document")["delivery"])
    assert statement["actions"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
    assert statement["resources"] == ["${local.log_group_arn}:log-stream:*"]
    assert statement["principals"][0]["identifiers"] == ["delivery.logs.amazonaws.com"]
    assert {c["variable"] for c in statement["condition"]} == {"aws:SourceAccount", "aws:SourceArn"}


def test_long_japanese_notes_are_not_blocked_by_the_body_size_rule(parsed):
    """2,000 Japanese characters URL-encoded are 18 KB, over SizeRestrictions_BODY's 8 KB."""
    from tfhelpers import unquote  # noqa: PLC0415

    rule = next(r for r in blocks(_acl(parsed), "dynamic") if r.get("rule"))["rule"]
    text = str(rule)
    assert "SizeRestrictions_BODY" in text and "action_to_use" in text and 'rule.key == "common"' in unquote(text)
