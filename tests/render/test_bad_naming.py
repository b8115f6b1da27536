"""Each bad naming.yaml: exit status 2, one line per problem naming naming.yaml and the key, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_bad_input import edit, snapshot

LB_KINDS = ("aws_lb, aws_lb_target_group, aws_s3_bucket, aws_db_instance, aws_db_snapshot, "
            "aws_db_parameter_group, aws_elasticache_replication_group, aws_elasticache_subnet_group, "
            "aws_elasticache_parameter_group, aws_elasticache_user, aws_elasticache_user_group")

# (old text, new text, every expected error line)
CASES = {
    "uppercase environment label": (
        "env: [dev, stg, prod]", "env: [dev, stg, prod, QA]",
        ["naming.yaml: labels.env[3]: 'QA' does not match segment_pattern '^[a-z0-9]+$'"]),
    "delimiter inside a label": (
        "env: [dev, stg, prod]", "env: [dev, stg, prod, q-a]",
        ["naming.yaml: labels.env[3]: 'q-a' does not match segment_pattern '^[a-z0-9]+$'"]),
    "a label twice": (
        "env: [dev, stg, prod]", "env: [dev, stg, prod, stg]",
        ["naming.yaml: labels.env[3]: 'stg' is listed twice"]),
    "hash length zero": (
        "hash_length: 5", "hash_length: 0",
        ["naming.yaml: hash_length: Input should be greater than or equal to 4 (got 0)"]),
    "hash length as text": (
        "hash_length: 5", 'hash_length: "5"',
        ["naming.yaml: hash_length: Input should be a valid integer (got '5')"]),
    "broken segment pattern": (
        'segment_pattern: "^[a-z0-9]+$"', 'segment_pattern: "^[a-z0-9+$"',
        ["naming.yaml: segment_pattern: not a valid regular expression (unterminated character set at "
         "position 1) (got '^[a-z0-9+$')"]),
    "unanchored segment pattern": (
        'segment_pattern: "^[a-z0-9]+$"', 'segment_pattern: "[a-z0-9]+"',
        ["naming.yaml: segment_pattern: must start with ^ and end with $, so that it judges a whole label "
         "(got '[a-z0-9]+')"]),
    "segment pattern that admits the delimiter": (
        'segment_pattern: "^[a-z0-9]+$"', 'segment_pattern: "^[a-z0-9-]+$"',
        ["naming.yaml: segment_pattern: allows the delimiter '-' inside a label, so a name no longer splits "
         "back into its labels"]),
    "delimiter some resource types refuse": (
        'delimiter: "-"', 'delimiter: "_"',
        [f"naming.yaml: delimiter: '_' is not allowed in the names of {LB_KINDS}"]),
    "delimiter of two characters": (
        'delimiter: "-"', 'delimiter: "--"',
        ["naming.yaml: delimiter: String should have at most 1 character (got '--')"]),
    "misspelt constraint key": (
        "aws_lb: {max: 32,", "aws_lb: {maxx: 32,",
        ['naming.yaml: constraints.aws_lb.maxx: unknown key (did you mean "max"?)',
         "naming.yaml: constraints.aws_lb.max: required key is missing"]),
    "misspelt key with an alias": (
        "global: true,", "globall: true,",
        ['naming.yaml: constraints.aws_s3_bucket.globall: unknown key (did you mean "global"?)']),
    "misspelt top-level key": (
        "hash_length: 5", "hash_lenght: 5",
        ['naming.yaml: hash_lenght: unknown key (did you mean "hash_length"?)',
         "naming.yaml: hash_length: required key is missing"]),
    "misspelt label dimension": (
        "  layer: [net,", "  layers: [net,",
        ['naming.yaml: labels.layers: unknown key (did you mean "layer"?)',
         "naming.yaml: labels.layer: required key is missing"]),
    "broken characters regex": (
        "aws_lb: {max: 32, chars: \"^[a-zA-Z0-9-]+$\"", "aws_lb: {max: 32, chars: \"^[a-zA-Z0-9-+$\"",
        ["naming.yaml: constraints.aws_lb.chars: not a valid regular expression (unterminated character set at "
         "position 1) (got '^[a-zA-Z0-9-+$')"]),
    "min above max": (
        "aws_lb: {max: 32,", "aws_lb: {min: 40, max: 32,",
        ["naming.yaml: constraints.aws_lb: min 40 is above max 32"]),
    "a limit of zero": (
        "aws_lb: {max: 32,", "aws_lb: {max: 0,",
        ["naming.yaml: constraints.aws_lb.max: Input should be greater than or equal to 1 (got 0)"]),
    "unknown style": (
        "aws_vpc: &tag {style: tag,", "aws_vpc: &tag {style: tags,",
        [f"naming.yaml: constraints.{kind}.style: Input should be 'id', 'path', 'alias' or 'tag' (got 'tags')"
         for kind in ("aws_vpc", "aws_subnet", "aws_internet_gateway", "aws_nat_gateway", "aws_eip",
                      "aws_route_table", "aws_flow_log", "aws_default_security_group", "aws_default_network_acl",
                      "aws_vpc_endpoint", "aws_acm_certificate", "aws_kms_key")]),
    "layer missing from the labels": (
        "  layer: [net, web, app, data, sec, cicd, ops]", "  layer: [net, web, app, data, sec, cicd]",
        [f"naming.yaml: resources.{entry}[1]: layer 'ops' is not in labels.layer"
         for entry in ("monitoring.topic", "monitoring.cache_topic", "monitoring.alarms", "monitoring.rules",
                       "monitoring.dashboard", "bootstrap.state_bucket", "bootstrap.state_kms_alias",
                       *(f"sleep.{key}" for key in ("schedule_group", "db_start_schedule", "db_stop_schedule",
                                                     "alarms_quiet_schedule", "alarms_loud_schedule",
                                                     "service_wake_action", "service_sleep_action",
                                                     "scheduler_role", "scheduler_policy")))]),
    "catalogue entry without its layer": (
        "    alb: [aws_lb, web, proxy, main, alb]", "    alb: [aws_lb, proxy, main, alb]",
        ["naming.yaml: resources.proxy_server.alb: List should have at least 5 items after validation, not 4"]),
    "catalogue entry of an unknown type": (
        "    alb: [aws_lb, web, proxy, main, alb]", "    alb: [aws_lbb, web, proxy, main, alb]",
        ["naming.yaml: resources.proxy_server.alb[0]: no entry for resource type 'aws_lbb' under constraints"]),
    "catalogue label with a capital": (
        "    alb: [aws_lb, web, proxy, main, alb]", "    alb: [aws_lb, web, proxy, Main, alb]",
        ["naming.yaml: resources.proxy_server.alb[3]: 'Main' does not match segment_pattern '^[a-z0-9]+$'"]),
    "derived name of an unknown type": (
        "      kind: aws_cloudwatch_log_group\n      format:", "      kind: aws_cloudwatch_loggroup\n      format:",
        ["naming.yaml: derived.rds.log_groups.kind: no entry for resource type 'aws_cloudwatch_loggroup' "
         "under constraints"]),
    "misspelt derived key": (
        "      items: [postgresql, upgrade]", "      item: [postgresql, upgrade]",
        ['naming.yaml: derived.rds.log_groups.item: unknown key (did you mean "items"?)',
         "naming.yaml: derived.rds.log_groups.items: required key is missing"]),
    "a key given twice": (
        "hash_length: 5", "hash_length: 5\nhash_length: 6",
        ["naming.yaml:12: invalid YAML: duplicate key 'hash_length'"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_naming_is_reported_and_nothing_is_written(project: Path, run, case: str):
    old, new, expected = CASES[case]
    assert run("render", "dev").exit_code == 0
    before = snapshot(project)
    edit(project / "naming.yaml", old, new)

    result = run("render", "dev")

    assert result.exit_code == 2
    assert sorted(result.stderr.splitlines()) == sorted(f"error: {line}" for line in expected)
    assert snapshot(project) == before


def test_capitals_are_refused_even_where_the_pattern_allows_them(project: Path, run):
    """AWS lower-cases some names and not others: a capital would give one environment mixed-case names."""
    edit(project / "naming.yaml", 'segment_pattern: "^[a-z0-9]+$"', 'segment_pattern: "^[a-zA-Z0-9]+$"')
    edit(project / "naming.yaml", "env: [dev, stg, prod]", "env: [dev, stg, prod, QA]")
    result = run("render", "dev")
    assert result.exit_code == 2
    assert result.stderr == "error: naming.yaml: labels.env[3]: 'QA' must be lowercase\n"


def test_a_new_lowercase_label_is_accepted(project: Path, run):
    """The checks refuse bad labels, not new environments."""
    edit(project / "naming.yaml", "env: [dev, stg, prod]", "env: [dev, stg, prod, qa]")
    result = run("names", "dev")
    assert result.exit_code == 0, result.stderr
