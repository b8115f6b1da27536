"""infra/cost.py: the arithmetic of each line on a small fixture, and the classification of every
resource type the roots create."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.cost import (
    LINE_KEYS,
    PriceTable,
    estimate,
    load_prices,
    resource_types,
    service_split,
    unclassified,
)
from infra.render import Project, load

ROOT = Path(__file__).resolve().parent.parent
PRICES = ROOT / "cost" / "prices.yaml"
ENVS = ["dev", "stg", "prod"]

# Round figures, so each expected value below can be worked out by hand.
FIXTURE_PRICES = {
    "nat_gateway_hour": 0.5, "nat_gateway_gb": 0.1, "public_ipv4_hour": 0.01,
    "interface_endpoint_hour": 0.02, "interface_endpoint_gb": 0.1,
    "alb_hour": 0.1, "alb_lcu_hour": 1.0,
    "fargate_vcpu_hour": {"X86_64": 0.04, "ARM64": 0.03}, "fargate_gb_hour": {"X86_64": 0.004, "ARM64": 0.003},
    "fargate_spot_discount": 0.75,
    "rds_postgres_instance_hour": {"db.t4g.micro": 0.02, "db.t4g.small": 0.04}, "rds_multi_az_factor": 2,
    "rds_gp3_gb_month": 0.1,
    "elasticache_node_hour": {"valkey": {"cache.t4g.micro": 0.01, "cache.t4g.small": 0.03},
                              "redis": {"cache.t4g.micro": 0.02}},
    "kms_key_month": 1.0, "kms_requests_10k": 0.05, "secret_month": 0.4, "secret_api_10k": 0.05,
    "logs_ingest_gb": {"STANDARD": 0.5, "INFREQUENT_ACCESS": 0.25}, "logs_storage_gb_month": 0.03,
    "alarm_month": 0.1, "custom_metric_month": 0.3, "dashboard_month": 3.0, "route53_zone_month": 0.5,
    "s3_standard_gb_month": 0.02,
    "ecr_storage_gb_month": 0.1, "codebuild_small_minute": 0.01, "codepipeline_action_minute": 0.002,
    "waf_web_acl_month": 5.0, "waf_rule_month": 1.0, "waf_requests_million": 0.6,
    "rds_backup_gb_month": 0.1, "backup_rds_snapshot_gb_month": 0.2, "inter_region_transfer_gb": 0.1,
}
FIXTURE_ASSUMPTIONS = {
    "requests_per_month": 360_000, "response_kb": 100, "nat_data_gb_per_month": 10,
    "endpoint_data_gb_per_month": 4, "app_log_gb_per_month": 3, "flow_log_gb_per_month": 1,
    "other_log_gb_per_month": 1, "log_compression_ratio": 0.5, "deploys_per_month": 10, "build_minutes": 5,
    "pipeline_action_minutes": 10, "migrate_task_minutes": 6, "batch_runs_per_job_per_month": 30,
    "batch_task_minutes": 4, "image_mb": 1024, "s3_gb": 10, "secret_reads_per_task_hour": 10,
    "kms_requests_per_month": 20_000, "waf_log_kb_per_request": 2, "database_gb": 10,
    "database_daily_change": 0.1,
}


def fixture_table(**assumptions: float) -> PriceTable:
    return PriceTable("fixture", 100.0, "ap-northeast-1", "today", FIXTURE_PRICES,
                      {**FIXTURE_ASSUMPTIONS, **assumptions}, {}, {})


def environment(name: str, **sections: dict):
    """The real merged YAML of `name`, with some sections' settings replaced."""
    _, env, names = load(Project(ROOT), name)
    updates = {section: getattr(env, section).model_copy(update=values) for section, values in sections.items()}
    return env.model_copy(update=updates), names


def lines(name: str, table: PriceTable | None = None, **sections: dict) -> dict[str, float]:
    """Each line of `name`'s estimate, awake around the clock (its working_hours dropped) so that
    the arithmetic counts every hour (tests/test_cost_whatif.py prices working hours)."""
    env, names = environment(name, **sections)
    env = env.model_copy(update={"working_hours": None})
    return {line.key: line.usd for line in estimate(name, env, names, table or fixture_table())}


# ---- Arithmetic, line by line (hours = 100) ----


def test_nat_gateways_and_their_addresses():
    single = lines("dev", network={"nat": "single", "availability_zones": ["1a", "1c"]})
    assert single["nat_gateways"] == pytest.approx(1 * 100 * 0.5 + 10 * 0.1)
    assert single["public_ipv4"] == pytest.approx((1 + 2) * 100 * 0.01)  # 1 NAT + 1 per ALB zone
    per_az = lines("dev", network={"nat": "per_az", "availability_zones": ["1a", "1c", "1d"]})
    assert per_az["nat_gateways"] == pytest.approx(3 * 100 * 0.5 + 10 * 0.1)
    assert per_az["public_ipv4"] == pytest.approx((3 + 3) * 100 * 0.01)
    none = lines("dev", network={"nat": "none", "interface_endpoints": ["ecr.api", "ecr.dkr", "logs"]})
    assert none["nat_gateways"] == 0
    # without NAT, the endpoints carry what the gateways would have (10 GB) beside their own 4 GB
    assert none["interface_endpoints"] == pytest.approx(3 * 2 * 100 * 0.02 + (4 + 10) * 0.1)


def test_load_balancer_hours_and_lcus():
    # 360,000 requests over 100 hours: 1 request/s -> 0.04 LCU by new connections;
    # 36 GB over 100 hours -> 0.36 GB/h -> 0.36 LCU by bytes, the larger one.
    assert lines("dev")["load_balancer"] == pytest.approx(100 * (0.1 + 0.36 * 1.0))
    small = fixture_table(response_kb=1)  # 0.0036 GB/h: new connections decide
    assert lines("dev", small)["load_balancer"] == pytest.approx(100 * (0.1 + 0.04 * 1.0))


@pytest.mark.parametrize(("tasks", "base", "weight", "expected"), [
    (2, 0, 0, (2, 0)),        # on-demand only
    (1, 0, 100, (1 / 101, 100 / 101)),  # the module weighs FARGATE 1 : FARGATE_SPOT weight
    (1, 1, 50, (1, 0)),       # the base task is on-demand
    (3, 1, 1, (2, 1)),        # one base task, then half and half
    (0, 2, 50, (0, 0)),
])
def test_service_split_follows_the_capacity_provider_strategy(tasks, base, weight, expected):
    env, _ = environment("dev", ecs={"desired_count": tasks, "min_capacity": 0, "fargate_base": base,
                                     "fargate_spot_weight": weight})
    assert service_split(env) == pytest.approx(expected)


def test_fargate_service_spot_jobs_and_migrations():
    ecs = {"cpu": 1024, "memory": 2048, "desired_count": 3, "max_capacity": 4, "fargate_base": 1,
           "fargate_spot_weight": 1, "cpu_architecture": "X86_64"}
    service_hourly = 1 * 0.04 + 2 * 0.004  # 1 vCPU, 2 GB
    small_hourly = 0.25 * 0.04 + 0.5 * 0.004
    jobs = 1  # the default purge job
    small_hours = (jobs * 30 * 4 + 10 * 6) / 60
    expected = 100 * service_hourly * (2 + 1 * (1 - 0.75)) + small_hours * small_hourly
    assert lines("dev", ecs=ecs)["fargate"] == pytest.approx(expected)
    arm = lines("dev", ecs={**ecs, "cpu_architecture": "ARM64"})["fargate"]
    assert arm < lines("dev", ecs=ecs)["fargate"]


def test_rds_instance_storage_and_multi_az():
    single = lines("dev", rds={"instance_class": "db.t4g.micro", "multi_az": False, "allocated_storage": 20})
    assert single["rds"] == pytest.approx(100 * 0.02 + 20 * 0.1)
    multi = lines("dev", rds={"instance_class": "db.t4g.small", "multi_az": True, "allocated_storage": 50})
    assert multi["rds"] == pytest.approx(2 * (100 * 0.04 + 50 * 0.1))


def test_elasticache_nodes_by_engine():
    assert lines("dev", elasticache={"num_cache_clusters": 2, "node_type": "cache.t4g.small"})["elasticache"] \
        == pytest.approx(2 * 100 * 0.03)
    assert lines("dev", elasticache={"engine": "redis", "node_type": "cache.t4g.micro"})["elasticache"] \
        == pytest.approx(1 * 100 * 0.02)


def test_kms_secrets_logs_pipeline_storage():
    result = lines("dev", ecs={"desired_count": 2, "max_capacity": 2, "log_retention_days": 30,
                               "log_group_class": "STANDARD", "ecr_keep_images": 5},
                   network={"flow_log_retention_days": 60}, waf={"enabled": False})
    assert result["kms"] == pytest.approx(1 * 1.0 + 2 * 0.05)  # the ssm module's key
    # the RDS-managed master secret; 2 tasks x 10 reads an hour x 100 hours
    assert result["secrets"] == pytest.approx(1 * 0.4 + 2000 / 10_000 * 0.05)
    env, _ = environment("dev")
    others = max(env.batch.log_retention_days, env.rds.log_retention_days, env.elasticache.log_retention_days,
                 env.codepipeline.log_retention_days)
    stored = (3 * 30 / 30 + 1 * 60 / 30 + 1 * others / 30) * 0.5
    assert result["logs"] == pytest.approx((3 + 1 + 1) * 0.5 + stored * 0.03)
    assert result["pipeline"] == pytest.approx(10 * (5 * 0.01 + 10 * 0.002))
    assert result["storage"] == pytest.approx(2 * 5 * 1.0 * 0.1 + 10 * 0.02)  # two repositories


def test_database_backups_beyond_the_free_allowance_snapshots_and_copies():
    # RDS only: 10 GB + 0.1 x 10 GB a day for 9 more days = 19 GB, free within 20 GB provisioned.
    rds_only = lines("dev", rds={"backup_retention_days": 10, "allocated_storage": 20})
    assert rds_only["backup"] == 0
    longer = lines("dev", rds={"backup_retention_days": 35, "allocated_storage": 20})
    assert longer["backup"] == pytest.approx((10 * (1 + 0.1 * 34) - 20) * 0.1)  # 44 GB, 24 beyond
    planned = lines("dev", rds={"backup_retention_days": 1, "allocated_storage": 20},
                    backup={"enabled": True, "retention_days": 5})
    assert planned["backup"] == pytest.approx(10 * (1 + 0.1 * 4) * 0.2)  # 14 GB of daily snapshots
    copied = lines("dev", rds={"backup_retention_days": 1, "allocated_storage": 20},
                   backup={"enabled": True, "retention_days": 5, "copy_region": "ap-northeast-3",
                           "copy_retention_days": 3})
    copies = 10 * (1 + 0.1 * 2) * 0.2 + 10 * 0.1 * 30 * 0.1 + 1.0  # storage, transfer, the copy key
    assert copied["backup"] == pytest.approx(planned["backup"] + copies)


def test_infrequent_access_logs_ingest_cheaper():
    standard = lines("dev", ecs={"log_group_class": "STANDARD"})["logs"]
    infrequent = lines("dev", ecs={"log_group_class": "INFREQUENT_ACCESS"})["logs"]
    assert standard - infrequent == pytest.approx(3 * (0.5 - 0.25))


def test_dns_only_for_a_zone_this_root_creates():
    from infra.config import Domain

    created = Domain(zone_name="example.com", create_zone=True, names=["example.com"])
    env, names = environment("dev")
    with_zone = {line.key: line.usd for line in estimate("dev", env.model_copy(update={"domain": created}), names,
                                                         fixture_table())}
    assert with_zone["dns"] == pytest.approx(0.5)
    existing = created.model_copy(update={"create_zone": False})
    without = {line.key: line.usd for line in estimate("dev", env.model_copy(update={"domain": existing}), names,
                                                       fixture_table())}
    assert without["dns"] == 0


def test_every_line_is_computed_once_per_environment():
    env, names = environment("prod")
    assert [line.key for line in estimate("prod", env, names, fixture_table())] == list(LINE_KEYS)


def test_per_environment_assumptions():
    table = fixture_table(requests_per_month={"default": 360_000, "prod": 720_000})
    assert table.assumption("requests_per_month", "prod") == 720_000
    assert table.assumption("requests_per_month", "dev") == 360_000


# ---- Every resource type is priced or free ----


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return load_prices(PRICES, "ap-northeast-1", "cost/prices.yaml", ENVS)


def test_every_resource_type_of_the_roots_is_classified(table):
    types = resource_types([ROOT / "modules", ROOT / "envs"])
    assert len(types) > 40  # the parse found the roots' resources
    assert unclassified(types, table) == []


def test_a_new_resource_type_fails_until_it_is_classified(table, tmp_path: Path):
    (tmp_path / "new.tf").write_text('resource "aws_dynamodb_table" "this" {\n  name = "x"\n}\n',
                                     encoding="utf-8")
    problems = unclassified(resource_types([tmp_path]), table)
    assert problems == [f"cost/prices.yaml: resource_types: aws_dynamodb_table (first at {tmp_path}/new.tf:1) "
                        "is neither priced nor free"]


def test_types_the_team_is_adding_are_classified_already(table):
    for rtype in ("aws_sns_topic", "aws_cloudwatch_metric_alarm", "aws_cloudwatch_event_rule",
                  "aws_cloudwatch_dashboard", "aws_elasticache_user", "aws_elasticache_user_group"):
        assert rtype in table.priced or rtype in table.free, rtype


def test_every_priced_type_has_its_line_and_every_price_is_used(table):
    assert set(table.priced.values()) <= set(LINE_KEYS)
    source = (ROOT / "infra" / "cost.py").read_text(encoding="utf-8")
    for key in table.prices:
        assert f'"{key}"' in source, f"{key} is in the price table but no line uses it"


def test_the_price_table_names_a_page_for_every_figure():
    import yaml

    prices = yaml.safe_load(PRICES.read_text(encoding="utf-8"))["regions"]["ap-northeast-1"]["prices"]
    for key, entry in prices.items():
        assert entry["page"].startswith("https://aws.amazon.com/") or \
            entry["page"].startswith("https://docs.aws.amazon.com/"), key
        if entry["checked"] == "assumption":
            assert entry.get("note"), key


def test_waf_prices_the_acl_its_rules_and_every_inspected_request():
    # 1 ACL + 5 rules (4 managed groups and the login rate rule) + 0.36 million requests inspected.
    assert lines("prod")["waf"] == pytest.approx(5.0 + 5 * 1.0 + 0.36 * 0.6)
    assert lines("prod", waf={"enabled": False})["waf"] == 0


def test_waf_log_is_ingested_with_every_inspected_request():
    # 360,000 requests x 2 KB = 0.72 GB at 0.5 a GB ingested.
    with_log, without = lines("prod")["logs"], lines("prod", waf={"enabled": False})["logs"]
    assert with_log - without == pytest.approx(0.72 * 0.5 + 0.72 * 90 / 30 * 0.5 * 0.03)
