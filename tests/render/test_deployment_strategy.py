"""Blue/green or rolling per environment, from YAML (ecs.deployment): what the rendered roots wire,
and the settings a blue/green deployment cannot work with, refused before anything is written."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
import yaml
from tfhelpers import literal

from deploy import smoke_hook

ROOT = Path(__file__).resolve().parents[2]


def _module(env: str, file: str, name: str, root: Path = ROOT) -> dict:
    with (root / "envs" / env / file).open() as handle:
        blocks = {k.strip('"'): v for block in hcl2.load(handle).get("module", []) for k, v in block.items()}
    return literal(blocks[name])


def _versions(env: str) -> str:
    with (ROOT / "envs" / env / "versions.tf").open() as handle:
        return literal(hcl2.load(handle)["terraform"][0])["required_providers"][0]["aws"]["version"]


def test_dev_rolls_and_stg_and_prod_deploy_blue_green():
    assert _module("dev", "ecs.tf", "ecs")["deployment_strategy"] == "ROLLING"
    for env, bake in (("stg", 5), ("prod", 15)):
        ecs = _module(env, "ecs.tf", "ecs")
        assert (ecs["deployment_strategy"], ecs["bake_time_minutes"]) == ("BLUE_GREEN", bake), env


@pytest.mark.parametrize("env", ["stg", "prod"])
def test_a_blue_green_root_wires_the_pair_the_test_listener_and_the_release(env):
    ecs = _module(env, "ecs.tf", "ecs")
    assert ecs["blue_green"] == {
        "alternate_target_group_arn": "${module.proxy_server.alternate_target_group_arn}",
        "production_listener_rule_arn": "${module.proxy_server.production_listener_rule_arn}",
        "test_listener_rule_arn": "${module.proxy_server.test_listener_rule_arn}",
        "test_port": 8443,
        "test_url": "${module.proxy_server.test_url}",
        # The smoke-test hook: its package beside the root's files, its timeout from its code.
        "smoke_hook_package": "${path.module}/smoke_hook.zip",
        "smoke_hook_timeout": smoke_hook.FUNCTION_TIMEOUT_SECONDS,
    }
    proxy = _module(env, "proxy_server.tf", "proxy_server")
    # Only the NAT gateways' addresses reach the test listener: the smoke-test task's way out.
    assert proxy["blue_green"] == {
        "test_port": 8443,
        "test_source_cidrs": '${[for ip in module.network.nat_public_ips : "${ip}/32"]}',
    }
    pipeline = _module(env, "codepipeline.tf", "codepipeline")
    assert pipeline["smoke_test_url"] == "${module.proxy_server.test_url}"
    assert pipeline["bake_time_minutes"] == ecs["bake_time_minutes"]
    # Production traffic is in either group of the pair: the target-group alarm and graphs watch both.
    monitoring = _module(env, "monitoring.tf", "monitoring")
    assert monitoring["target_group_arn_suffix"] == "${module.proxy_server.target_group_arn_suffix}"
    assert monitoring["alternate_target_group_arn_suffix"] == (
        "${module.proxy_server.alternate_target_group_arn_suffix}")


def test_a_rolling_root_has_none_of_it():
    assert "blue_green" not in _module("dev", "ecs.tf", "ecs")
    assert "blue_green" not in _module("dev", "proxy_server.tf", "proxy_server")
    assert "smoke_test_url" not in _module("dev", "codepipeline.tf", "codepipeline")
    assert "alternate_target_group_arn_suffix" not in _module("dev", "monitoring.tf", "monitoring")


@pytest.mark.parametrize("env", ["dev", "stg", "prod"])
def test_every_root_requires_the_provider_that_knows_blue_green(env):
    assert _versions(env) == "~> 6.4"


DOMAIN = {"zone_name": "example.com", "create_zone": False, "names": ["dev.example.com"]}
BLUE_GREEN = {"strategy": "BLUE_GREEN", "bake_time_minutes": 5, "test_port": 8443}

CASES = {
    "without a domain": (
        {},
        "ecs.deployment.strategy: BLUE_GREEN needs a domain: its test listener serves the HTTPS certificate",
    ),
    "without NAT": (
        {"domain": DOMAIN, "proxy": {"allow_plain_http": False}, "network": {"nat": "none"}},
        "ecs.deployment.strategy: BLUE_GREEN needs network.nat single or per_az",
    ),
    "with an admin allow-list": (
        {"domain": DOMAIN, "proxy": {"allow_plain_http": False, "admin_allowed_cidrs": ["203.0.113.0/24"]}},
        "ecs.deployment.strategy: BLUE_GREEN cannot be combined with proxy.admin_allowed_cidrs",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_blue_green_refuses_what_it_cannot_work_with(project: Path, run, case: str):
    changes, message = CASES[case]
    assert run("render", "dev").exit_code == 0
    env_yaml = project / "envs" / "dev" / "env.yaml"
    data = yaml.safe_load(env_yaml.read_text())
    for key, value in {**changes, "ecs": {**data["ecs"], "deployment": BLUE_GREEN}}.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) and key != "domain" else value
    env_yaml.write_text(yaml.safe_dump(data))
    before = (project / "envs" / "dev" / "ecs.tf").read_text()

    result = run("render", "dev")

    assert result.exit_code == 2
    assert any(line.startswith(f"error: envs/dev/env.yaml: {message}") for line in result.stderr.splitlines()), (
        result.stderr
    )
    assert (project / "envs" / "dev" / "ecs.tf").read_text() == before


def test_a_blue_green_environment_that_meets_them_renders(project: Path, run):
    env_yaml = project / "envs" / "dev" / "env.yaml"
    data = yaml.safe_load(env_yaml.read_text())
    data.update(
        domain=DOMAIN, proxy={**data["proxy"], "allow_plain_http": False}, ecs={**data["ecs"], "deployment": BLUE_GREEN}
    )
    env_yaml.write_text(yaml.safe_dump(data))

    result = run("render", "dev")

    assert result.exit_code == 0, result.stderr
    ecs = _module("dev", "ecs.tf", "ecs", root=project)
    assert (ecs["deployment_strategy"], ecs["bake_time_minutes"]) == ("BLUE_GREEN", 5)


def test_an_unknown_strategy_is_refused(project: Path, run):
    env_yaml = project / "envs" / "dev" / "env.yaml"
    data = yaml.safe_load(env_yaml.read_text())
    data["ecs"]["deployment"] = {**BLUE_GREEN, "strategy": "CANARY"}
    env_yaml.write_text(yaml.safe_dump(data))

    result = run("render", "dev")

    assert result.exit_code == 2
    assert "envs/dev/env.yaml: ecs.deployment.strategy: Input should be 'ROLLING' or 'BLUE_GREEN'" in result.stderr
