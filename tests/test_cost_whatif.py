"""infra/whatif.py and the sleeping hours of infra/cost.py: the arithmetic of each what-if on the small
fixture table of tests/test_cost.py, worked out by hand."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import pytest

from infra import whatif
from infra.config import WorkingHours
from infra.cost import estimate
from infra.endpoints import needed_without_nat
from infra.errors import RenderError
from infra.naming import load_rules
from tests.test_cost import FIXTURE_PRICES, environment, fixture_table

ROOT = Path(__file__).resolve().parent.parent
RULES = load_rules(ROOT / "naming.yaml")
ENVS = ["dev", "stg", "prod"]
WEEKDAYS_65 = WorkingHours(timezone="Asia/Tokyo", days=["MON", "TUE", "WED", "THU", "FRI"], start="08:00",
                           end="21:00")


def priced(name: str, table=None, working_hours=None, **sections) -> dict[str, float]:
    env, names = environment(name, **sections)
    env = env.model_copy(update={"working_hours": working_hours})
    return {line.key: line.usd for line in estimate(name, env, names, table or fixture_table())}


# ---- Sleeping hours ----


def test_sleeping_65_of_168_hours_scales_the_service_and_the_database_instance_exactly():
    ecs = {"cpu": 1024, "memory": 2048, "desired_count": 2, "max_capacity": 2, "fargate_base": 2,
           "fargate_spot_weight": 0, "cpu_architecture": "X86_64"}
    rds = {"instance_class": "db.t4g.small", "multi_az": True, "allocated_storage": 50}
    awake = priced("prod", ecs=ecs, rds=rds)
    asleep = priced("prod", working_hours=WEEKDAYS_65, ecs=ecs, rds=rds)
    share = 65 / 168
    service = 100 * 2 * (1 * 0.04 + 2 * 0.004)  # two on-demand tasks of 1 vCPU / 2 GB for 100 hours
    jobs = (1 * 30 * 4 + 10 * 6) / 60 * (0.25 * 0.04 + 0.5 * 0.004)  # scheduled jobs and migrations still run
    assert awake["fargate"] == pytest.approx(service + jobs)
    assert asleep["fargate"] == pytest.approx(service * share + jobs)
    # Multi-AZ doubles both; the instance hours sleep, the 50 GB of storage do not.
    assert awake["rds"] == pytest.approx(2 * (100 * 0.04 + 50 * 0.1))
    assert asleep["rds"] == pytest.approx(2 * (100 * 0.04 * share + 50 * 0.1))
    # The credentials are read by running tasks only.
    assert asleep["secrets"] == pytest.approx(1 * 0.4 + 2 * 10 * 100 * share / 10_000 * 0.05)
    # Everything else runs around the clock: cache, NAT, load balancer, WAF, endpoints, backups...
    for key in set(awake) - {"fargate", "rds", "secrets"}:
        assert asleep[key] == awake[key], key


def test_awake_around_the_clock_is_the_whole_week():
    every_hour = WorkingHours(timezone="UTC", days=["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"],
                              start="00:00", end="23:59")
    assert every_hour.awake_hours_per_week() == pytest.approx(168 - 7 / 60)
    assert priced("dev", working_hours=None)["rds"] > priced("dev", working_hours=every_hour)["rds"]


# ---- CPU architecture ----


def test_arm_tasks_are_priced_at_the_arm_prices():
    ecs = {"cpu": 512, "memory": 1024, "desired_count": 1, "fargate_base": 1, "fargate_spot_weight": 0}
    arm = priced("dev", ecs={**ecs, "cpu_architecture": "ARM64"})["fargate"]
    small = (1 * 30 * 4 + 10 * 6) / 60 * (0.25 * 0.03 + 0.5 * 0.003)  # jobs and migrations use ARM too
    assert arm == pytest.approx(100 * (0.5 * 0.03 + 1 * 0.003) + small)


# ---- NAT or endpoints ----


@pytest.mark.parametrize(("nat", "endpoints", "expected"), [
    ((51.0, 51.1), (70.04, 70.05), ("above", 19.04 / 0.09)),  # dearer to run, cheaper a GB
    ((51.0, 51.1), (40.0, 40.2), ("below", 11 / 0.1)),  # cheaper to run, dearer a GB
    ((51.0, 51.1), (28.04, 28.05), ("always", None)),
    ((51.0, 51.1), (70.0, 70.2), ("never", None)),
    ((51.0, 51.1), (51.0, 51.1), ("always", None)),  # equal: no dearer at any traffic
])
def test_breakeven_formula(nat, endpoints, expected):
    side, gb = whatif.breakeven(nat, endpoints)
    assert side == expected[0]
    assert gb == (pytest.approx(expected[1]) if expected[1] is not None else None)


def test_breakeven_traffic_matches_a_hand_computation():
    """dev on the fixture table (100 h): one NAT gateway and its address against the seven
    interface endpoints of nat none in two zones."""
    table = replace(fixture_table(), prices={**FIXTURE_PRICES, "interface_endpoint_hour": 0.05,
                                             "interface_endpoint_gb": 0.01})
    result = whatif.what_if(ROOT / "envs", RULES, "dev", table)
    env, _ = environment("dev")
    services = len(needed_without_nat(env))
    assert services == 7
    single = 1 * 100 * 0.5 + 1 * 100 * 0.01  # the gateway's hours and its Elastic IP's
    endpoints = services * 2 * 100 * 0.05 + 4 * 0.01  # their hours and their own 4 GB
    gb = (endpoints - single) / (0.1 - 0.01)  # NAT's 0.1 a GB against the endpoints' 0.01
    (sentence,) = [s for s in result.breakeven if "vs nat single" in s]
    assert f"above {gb:,.0f} GB a month" in sentence, sentence
    assert gb == pytest.approx(211.56, abs=0.01)


def test_nat_none_adds_exactly_the_endpoints_the_renderer_requires():
    env, _ = environment("dev")
    (none,) = [o for o in whatif.options(env) if o.settings.get("network", {}).get("nat") == "none"]
    assert set(none.settings["network"]["interface_endpoints"]) == set(needed_without_nat(env))
    assert none.label.endswith(f"+{len(needed_without_nat(env))} interface endpoints")


# ---- The options themselves ----


def flat(value, prefix: tuple = ()) -> dict[tuple, object]:
    if isinstance(value, dict) and value:
        return {path: leaf for key, item in value.items() for path, leaf in flat(item, (*prefix, key)).items()}
    return {prefix: value}


@pytest.mark.parametrize("name", ENVS)
def test_each_option_changes_only_its_own_settings(name):
    env, _ = environment(name)
    current = flat(env.model_dump())
    for option in whatif.options(env):
        try:
            variant, _ = whatif.load_variant(ROOT / "envs", RULES, name, (("test", option.settings),))
        except RenderError as exc:  # a rule across sections refuses it: only nat none with blue/green
            assert option.group == "nat" and env.ecs.deployment.strategy == "BLUE_GREEN", (option.label, exc)
            continue
        after = flat(variant.model_dump())
        changed = {path for path in set(current) | set(after) if current.get(path, "-") != after.get(path, "-")}
        touched = set(flat(option.settings))
        assert changed, option.label  # never the current choice again
        assert all(any(path[: len(t)] == t or t[: len(path)] == path for t in touched) for path in changed), \
            (option.label, changed)


@pytest.mark.parametrize("name", ENVS)
def test_every_combination_of_the_options_validates(name):
    """One option of each group at once, or the group left as the YAML has it: every mix is a
    YAML the model accepts (the single options and their cheapest mix also render:
    tests/render/test_cost_whatif_cli.py)."""
    env, _ = environment(name)
    groups: dict[str, list[dict]] = {}
    for option in whatif.options(env):
        groups.setdefault(option.group, [{}]).append(option.settings)
    combinations = list(itertools.product(*groups.values()))
    assert len(combinations) >= 3 * 2 * 3 * 2
    # Blue/green needs NAT (infra/config.py, deployment_problems): a mix without it is refused.
    refused = [parts for parts in combinations
               if env.ecs.deployment.strategy == "BLUE_GREEN" and parts[0].get("network", {}).get("nat") == "none"]
    for parts in combinations:
        layers = (("mix", whatif.merge_settings(*parts)),)
        if parts in refused:
            with pytest.raises(RenderError, match="BLUE_GREEN needs network.nat"):
                whatif.load_variant(ROOT / "envs", RULES, name, layers)
            continue
        variant, names = whatif.load_variant(ROOT / "envs", RULES, name, layers)
        assert whatif.total(estimate(name, variant, names, fixture_table())) > 0
    assert len(combinations) - len(refused) >= 2 * 2 * 3 * 2


@pytest.mark.parametrize("name", ENVS)
def test_every_group_is_offered(name):
    env, _ = environment(name)
    groups = {option.group for option in whatif.options(env)}
    assert groups == {"nat", "arch", "spot", "sleep"}
    assert len([o for o in whatif.options(env) if o.group == "nat"]) == 2  # the two other NAT choices


def test_an_option_the_yaml_cannot_select_is_refused_not_priced(monkeypatch):
    impossible = whatif.Option("arch", "ecs.cpu_architecture: RISCV64", {"ecs": {"cpu_architecture": "RISCV64"}})
    monkeypatch.setattr(whatif, "options", lambda env: [impossible])
    result = whatif.what_if(ROOT / "envs", RULES, "dev", fixture_table())
    (row,) = result.rows[1:]
    assert row.total is None
    assert row.problem.startswith("what-if ecs.cpu_architecture: RISCV64: ecs.cpu_architecture: Input should be")


def test_all_the_savings_together_take_the_cheapest_of_each_group():
    result = whatif.what_if(ROOT / "envs", RULES, "prod", fixture_table())
    by_label = {row.option.label: row for row in result.rows[1:] if row.option}
    combined = by_label.pop("all the savings above together")
    cheapest = whatif.cheapest_per_group(result.rows[:1] + list(by_label.values()))
    assert combined.option.settings == whatif.merge_settings(*(row.option.settings for row in cheapest))
    assert combined.total < min(row.total for row in cheapest)


# ---- --with ----


@pytest.mark.parametrize(("item", "expected"), [
    ("network.nat", "--with network.nat: expected [ENV.]KEY.PATH=VALUE"),
    ("network..nat=none", "--with network..nat=none: expected"),
    ("ecs.cpu=[1", "--with ecs.cpu=[1: the value is not YAML"),
])
def test_malformed_with_is_one_error(item, expected):
    with pytest.raises(RenderError) as caught:
        whatif.parse_with([item], ENVS)
    (problem,) = caught.value.problems
    assert problem.startswith(expected), problem


@pytest.mark.parametrize(("item", "expected"), [
    ("ecs.cpu_architectur=ARM64",
     '--with ecs.cpu_architectur=ARM64: ecs.cpu_architectur: unknown key (did you mean "cpu_architecture"?)'),
    ("dev.network.nat=some", "--with dev.network.nat=some: network.nat: Input should be 'none', 'single' or 'per_az'"),
    ("network.nat=none", '--with network.nat=none: envs/dev/env.yaml: network.interface_endpoints: nat "none"'),
])
def test_a_setting_the_yaml_refuses_names_the_option_and_the_key(item, expected):
    layers = whatif.parse_with([item], ENVS)
    with pytest.raises(RenderError) as caught:
        whatif.load_variant(ROOT / "envs", RULES, "dev", layers["dev"])
    (problem,) = caught.value.problems
    assert problem.startswith(expected), problem


def test_with_for_one_environment_leaves_the_others_alone():
    layers = whatif.parse_with(["prod.ecs.cpu_architecture=ARM64", "working_hours=null"], ENVS)
    assert layers["dev"] == (("--with working_hours=null", {"working_hours": None}),)
    assert layers["prod"][0] == ("--with prod.ecs.cpu_architecture=ARM64", {"ecs": {"cpu_architecture": "ARM64"}})
    env, _ = whatif.load_variant(ROOT / "envs", RULES, "prod", layers["prod"])
    assert env.ecs.cpu_architecture == "ARM64"
