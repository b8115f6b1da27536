"""`make up` runs the containers as the ECS task definition does: the local run's settings
(tools/imagekit/task.py) against the module's container definitions and the roots' environment."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import hcl2
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from imagekit import bases, task  # noqa: E402

ENVS = ["dev", "stg", "prod"]


def _unquote(value):
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items()}
    return value


def _load(path: Path) -> dict:
    with path.open() as handle:
        return _unquote(hcl2.load(handle))


def _resolve(value, scope: dict):
    """${local.x} and ${var.x} references of the module, replaced by their values."""
    if isinstance(value, dict):
        return {k: _resolve(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, scope) for v in value]
    if isinstance(value, str):
        whole = re.fullmatch(r"\$\{((?:local|var)\.\w+)\}", value)
        if whole and whole.group(1) in scope:
            return _resolve(scope[whole.group(1)], scope)
        return re.sub(r"\$\{((?:local|var)\.\w+)\}",
                      lambda m: str(scope[m.group(1)]) if m.group(1) in scope else m.group(0), value)
    return value


@pytest.fixture(scope="module")
def containers() -> dict[str, dict]:
    module = ROOT / "modules" / "ecs"
    scope = {}
    for block in _load(module / "variables.tf")["variable"]:
        for name, body in block.items():
            if "default" in body:
                scope[f"var.{name}"] = body["default"]
    for block in _load(module / "task.tf")["locals"]:
        scope.update({f"local.{k}": v for k, v in block.items()})
    # The service adds the ECS Exec agent's writable paths to the base's mounts (an expression
    # here); the agent never runs locally, so the base's mounts are the ones to mirror.
    service = {k: v for k, v in _resolve(scope["local.app_service_settings"], scope).items() if k != "mountPoints"}
    app = {**_resolve(scope["local.app_container_base"], scope), **service}
    return {"app": app, "proxy": _resolve(scope["local.proxy_container"], scope)}


@pytest.mark.parametrize("local", [task.APP, task.PROXY], ids=["app", "proxy"])
def test_user_root_capabilities_init_and_stop_timeout_match(containers, local):
    ecs = containers[local.name]
    assert local.user == str(ecs["user"])
    assert local.read_only_root is ecs["readonlyRootFilesystem"]
    assert list(local.cap_drop) == ecs["linuxParameters"]["capabilities"]["drop"]
    assert local.init is ecs["linuxParameters"]["initProcessEnabled"]
    assert local.stop_timeout == int(ecs["stopTimeout"])


@pytest.mark.parametrize("local", [task.APP, task.PROXY], ids=["app", "proxy"])
def test_the_one_writable_mount_is_the_scratch_volume(containers, local):
    mounts = containers[local.name]["mountPoints"]
    assert [(m["containerPath"], m["readOnly"]) for m in mounts] == [(local.scratch, False)]


def module_default(name: str):
    variables = _load(ROOT / "modules" / "ecs" / "variables.tf")["variable"]
    return next(v[name]["default"] for v in variables if name in v)


def module_command(command: list[str]) -> list[str]:
    """The module's health check with its port expressions at the module's default app_port."""
    port = module_default("app_port")
    return [part.replace("${var.app_port + 1}", str(port + 1)).replace("${var.app_port}", str(port))
            for part in command]


def test_health_check_matches(containers):
    check = containers["app"]["healthCheck"]
    assert list(task.APP.health_command) == module_command(check["command"])
    assert task.APP.health == {k: check[k] for k in ("interval", "timeout", "retries", "startPeriod")}
    # ECS starts the proxy once the app is HEALTHY; `up` waits for the same check.
    assert [d["condition"] for d in containers["proxy"]["dependsOn"]] == ["HEALTHY"]
    assert "healthCheck" not in containers["proxy"] and not task.PROXY.health_command


def test_ports_are_the_modules_defaults(containers):
    assert f"127.0.0.1:{task.LIVENESS_PORT}/" in module_command(containers["app"]["healthCheck"]["command"])[-1]
    assert containers["proxy"]["portMappings"][0]["containerPort"] == task.PROXY_PORT


def test_run_flags_carry_each_setting():
    flags = task.run_flags(task.APP)
    for expected in ("--user=10001", "--read-only", "--read-only-tmpfs=false", "--cap-drop=ALL", "--init",
                     "--network=host", "--stop-timeout=30", "--health-interval=15s", "--health-retries=3"):
        assert expected in flags
    assert any(f.startswith("--volume=") and f.endswith(":/tmp:rw") for f in flags)
    assert not any(f.startswith("--health") for f in task.run_flags(task.PROXY))


def _root_environment(env: str) -> set[str]:
    module = _load(ROOT / "envs" / env / "ecs.tf")["module"][0]["ecs"]
    return set(module["environment"]) | set(module["secrets"])


@pytest.mark.parametrize("env", ENVS)
def test_every_environment_name_of_the_task_is_set_locally_or_said_why_not(env):
    names = _root_environment(env)
    local = set(task.local_environment("postgres://x", "redis://x", "k"))
    assert names - local - set(task.OMITTED) == set(), "set these in tools/imagekit/task.py or say why not"
    assert local - names == set(), "the local run sets names the task does not"


def test_migration_matches_the_migrate_task():
    text = (ROOT / "modules" / "batch" / "main.tf").read_text()
    command = re.search(r"migrate_command = (\[.*\])", text).group(1)
    assert [c.strip(' "') for c in command.strip("[]").split(",")] == list(task.MIGRATE_COMMAND)
    assert set(re.findall(r'e\.name != "(\w+)"', text)) == task.MIGRATE_DROPS
    added = set(re.findall(r"\{ (\w+) = var\.migration_secret_arn \}", text))
    assert added == task.MIGRATE_ONLY and added <= set(task.OMITTED)


def test_standin_bases_replace_exactly_the_dockerfiles_bases():
    assert set(bases.dockerfile_defaults()) == set(bases.STANDINS)


def test_standin_tag_changes_with_its_recipe():
    changed = bases.StandIn(**{**bases.NGINX.__dict__, "packages": ("nginx", "curl")})
    assert changed.recipe_key("") != bases.NGINX.recipe_key("")
    assert bases.NGINX.recipe_key("a") != bases.NGINX.recipe_key("b")
