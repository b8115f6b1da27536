"""The naming rule against every resource type the project names, and its limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.errors import RenderError
from infra.naming import build_name, fit, load_rules, short_hash, violation

ROOT = Path(__file__).resolve().parents[2]
RULES = load_rules(ROOT / "naming.yaml")


def labels(**overrides: str) -> dict[str, str]:
    base = {"system": "todo", "env": "prod", "layer": "app", "type": "web", "purpose": "main", "service": "ecs"}
    return {**base, **overrides}


def test_the_rule_orders_labels_and_joins_them_with_the_delimiter():
    assert build_name(RULES, "aws_ecs_cluster", labels()) == "todo-prod-app-web-main-ecs"


def test_empty_segments_are_dropped_never_doubled():
    assert build_name(RULES, "aws_ecs_cluster", labels(purpose="")) == "todo-prod-app-web-ecs"


def test_path_style_names_for_log_groups_and_parameters():
    assert build_name(RULES, "aws_cloudwatch_log_group", labels(purpose="app")) == "/todo/prod/app/web/app"
    assert build_name(RULES, "aws_ssm_parameter", labels(purpose="django-secret-key")) == \
        "/todo/prod/app/web/django-secret-key"


def test_kms_alias_style():
    assert build_name(RULES, "aws_kms_alias", labels(layer="sec", service="kms")) == \
        "alias/todo-prod-sec-web-main-kms"


def test_s3_names_carry_the_account_for_global_uniqueness():
    name = build_name(RULES, "aws_s3_bucket", labels(service="s3"), account_id="123456789012")
    assert name == "todo-prod-app-web-main-s3-123456789012"


# kind, limit: a table over every length limit the project meets.
LIMITS = [
    ("aws_lb", 32), ("aws_lb_target_group", 32), ("aws_codestarconnections_connection", 32),
    ("aws_elasticache_replication_group", 40), ("aws_db_instance", 63), ("aws_s3_bucket", 63),
    ("aws_iam_role", 64), ("aws_scheduler_schedule", 64), ("aws_sqs_queue", 80),
    ("aws_codepipeline", 100), ("aws_iam_role_policy", 128),
]


@pytest.mark.parametrize(("kind", "limit"), LIMITS)
def test_too_long_names_are_truncated_with_a_hash_within_the_limit(kind: str, limit: int):
    long = labels(system="averyveryverylongsystemname", purpose="evenlongerpurposelabelhere" * 5)
    name = build_name(RULES, kind, long, account_id="123456789012")
    assert len(name) <= limit
    assert violation(RULES, RULES.constraint(kind), name) is None
    assert re.search(r"-[0-9a-f]{5}$", name), name


@pytest.mark.parametrize(("kind", "limit"), LIMITS)
def test_names_at_the_limit_are_kept_whole(kind: str, limit: int):
    constraint = RULES.constraint(kind)
    exact = ("a" + "b" * (limit - 2) + "c")
    assert fit(RULES, constraint, exact) == exact


def test_truncation_is_deterministic_and_keeps_different_names_apart():
    one = labels(purpose="x" * 40 + "one")
    two = labels(purpose="x" * 40 + "two")
    assert build_name(RULES, "aws_lb", one) == build_name(RULES, "aws_lb", one)
    assert build_name(RULES, "aws_lb", one) != build_name(RULES, "aws_lb", two)


def test_hash_is_of_the_full_name():
    full = "todo-prod-app-web-" + "x" * 40 + "-alb"
    name = fit(RULES, RULES.constraint("aws_lb"), full)
    assert name.endswith(short_hash(full, 5))


def test_truncation_never_leaves_a_double_delimiter():
    # Cut so the head would end in "-": the rstrip keeps "--" out.
    name = fit(RULES, RULES.constraint("aws_elasticache_replication_group"), "abcd-" * 9)
    assert "--" not in name and len(name) <= 40


@pytest.mark.parametrize(("kind", "name", "reason"), [
    ("aws_db_instance", "1todo-prod-db", "must start with a letter"),
    ("aws_elasticache_replication_group", "todo--prod", "must not contain '--'"),
    ("aws_lb", "internal-todo-alb", "must not start with 'internal-'"),
    ("aws_s3_bucket", "Todo-Bucket", "has characters outside"),
    ("aws_s3_bucket", "ab", "shorter than 3"),
    ("aws_lb_target_group", "todo_tg", "has characters outside"),
    ("aws_db_instance", "todo-", "must end with a letter or digit"),
    ("aws_kms_alias", "alias/aws/todo", "must not start with 'alias/aws'"),
    ("aws_security_group", "sg-todo", "must not start with 'sg-'"),
    ("aws_ssm_parameter", "/aws/todo", "must not start with '/aws'"),
])
def test_violations_are_named(kind: str, name: str, reason: str):
    assert reason in violation(RULES, RULES.constraint(kind), name)


def test_impossible_names_are_errors_not_silent_cuts():
    with pytest.raises(RenderError, match="must start with a letter"):
        build_name(RULES, "aws_db_instance", labels(system="1todo", layer="data", service="rds"))


def test_unknown_resource_type_is_an_error():
    with pytest.raises(RenderError, match="no entry for resource type 'aws_nope'"):
        build_name(RULES, "aws_nope", labels())


def test_every_catalogued_kind_has_a_constraint_and_valid_labels():
    for module, entries in RULES.resources.items():
        for key, (kind, layer, type_, purpose, service) in entries.items():
            assert kind in RULES.constraints, f"{module}.{key}: {kind}"
            assert layer in RULES.labels["layer"], f"{module}.{key}: {layer}"
            for label in (type_, service) + (() if purpose.startswith("{") else (purpose,)):
                assert re.match(RULES.segment_pattern, label), f"{module}.{key}: {label}"
