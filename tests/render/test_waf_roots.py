"""The rendered roots put the web ACL in front of each environment's load balancer, from YAML."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ENVS = ("dev", "stg", "prod")


def _modules(env_dir: Path, name: str) -> dict:
    with (env_dir / name).open() as handle:
        return {k.strip("\""): v for block in hcl2.load(handle).get("module", []) for k, v in block.items()}


@pytest.mark.parametrize("env", ENVS)
def test_every_committed_root_associates_its_acl_with_its_load_balancer(env):
    waf = _modules(ROOT / "envs" / env, "waf.tf")["waf"]
    assert waf["alb_arn"] == "${module.proxy_server.alb_arn}"
    monitoring = _modules(ROOT / "envs" / env, "monitoring.tf")["monitoring"]
    assert monitoring["waf"]["web_acl_name"] == "${module.waf.web_acl_name}"


def test_dev_counts_and_prod_blocks():
    actions = {env: {rule: action.strip('"') for rule, action in
                     _modules(ROOT / "envs" / env, "waf.tf")["waf"]["rule_actions"].items()} for env in ENVS}
    assert set(actions["dev"].values()) == {"count"}
    assert set(actions["prod"].values()) == {"block"}
    assert actions["stg"]["common"] == "count" and actions["stg"]["sqli"] == "block"  # per rule, over the mode


def test_without_waf_there_is_no_acl_and_no_waf_alarm(project: Path, run):
    env_yaml = project / "envs" / "dev" / "env.yaml"
    data = yaml.safe_load(env_yaml.read_text())
    data["waf"] = {"enabled": False}
    env_yaml.write_text(yaml.safe_dump(data))
    result = run("render", "dev")
    assert result.exit_code == 0, result.output
    assert "module" not in hcl2.loads((project / "envs/dev/waf.tf").read_text())
    monitoring = _modules(project / "envs" / "dev", "monitoring.tf")["monitoring"]
    assert monitoring["waf"] is None
    assert not [key for key in monitoring["names"]["alarms"] if key.startswith("waf_")]
    ssm = _modules(project / "envs" / "dev", "ssm.tf")["ssm"]
    assert not [p for p in ssm["additional_log_group_prefixes"] if p.startswith("aws-waf-logs-")]


@pytest.mark.parametrize(("value", "words"), [
    ({"login_rate_limit": 5}, "login_rate_limit"),
    ({"login_rate_window": 30}, "login_rate_window"),
    ({"rules": {"known_bad_inputs": "count"}}, "rules"),
    ({"mode": "allow"}, "mode"),
])
def test_bad_waf_settings_are_one_line_errors_naming_the_key(project: Path, run, value, words):
    env_yaml = project / "envs" / "dev" / "env.yaml"
    data = yaml.safe_load(env_yaml.read_text())
    data["waf"] = {**data.get("waf", {}), **value}
    env_yaml.write_text(yaml.safe_dump(data))
    result = run("render", "dev")
    assert result.exit_code != 0
    assert "env.yaml" in result.output and f"waf.{words}" in result.output, result.output
