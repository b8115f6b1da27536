"""One CPU architecture per environment: ecs.cpu_architecture reaches the service's task definition,
and from the ecs module's output the batch and migration tasks and the pipeline's image build, so
no rendered root can give the image and a task different architectures ("exec format error")."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
import yaml
from test_bad_input import edit

ROOT = Path(__file__).resolve().parents[2]
ENVS = ("dev", "stg", "prod")
FOLLOWERS = {"batch.tf": "batch", "codepipeline.tf": "codepipeline"}


def _module(env_dir: Path, file: str, name: str) -> dict:
    with (env_dir / file).open() as handle:
        modules = {k.strip('"'): v for block in hcl2.load(handle).get("module", []) for k, v in block.items()}
    return modules[name]


def _architecture_wiring(env_dir: Path) -> dict[str, str]:
    wiring = {"ecs": _module(env_dir, "ecs.tf", "ecs")["cpu_architecture"]}
    wiring.update({name: _module(env_dir, file, name)["cpu_architecture"] for file, name in FOLLOWERS.items()})
    return {name: value.strip('"') for name, value in wiring.items()}  # hcl2 8.x keeps a string's quotes


@pytest.mark.parametrize("env", ENVS)
def test_every_committed_root_has_one_architecture_setting(env: str):
    common = yaml.safe_load((ROOT / "envs" / "common.yaml").read_text())
    own = yaml.safe_load((ROOT / "envs" / env / "env.yaml").read_text())
    expected = own.get("ecs", {}).get("cpu_architecture", common["ecs"]["cpu_architecture"])
    assert _architecture_wiring(ROOT / "envs" / env) == {
        "ecs": expected,
        "batch": "${module.ecs.cpu_architecture}",
        "codepipeline": "${module.ecs.cpu_architecture}",
    }


def test_arm64_is_the_default_and_every_environment_runs_it():
    """Nothing needs x86 (multi-arch base images, aarch64 wheels in the app's lock): every
    environment, Spot or not, runs Graviton."""
    assert yaml.safe_load((ROOT / "envs" / "common.yaml").read_text())["ecs"]["cpu_architecture"] == "ARM64"
    for env in ENVS:
        assert _architecture_wiring(ROOT / "envs" / env)["ecs"] == "ARM64", env
    assert yaml.safe_load((ROOT / "envs" / "dev" / "env.yaml").read_text())["ecs"]["fargate_spot_weight"] > 0


@pytest.mark.parametrize("architecture", ["X86_64", "ARM64"])
def test_an_environment_chooses_its_architecture_in_its_yaml(project: Path, run, architecture: str):
    """One environment may differ (an x86-only image); Spot stays allowed with either, since
    Fargate Spot runs ARM64 tasks on platform version 1.4.0 or later."""
    edit(project / "envs" / "dev" / "env.yaml", "ecs:\n", f"ecs:\n  cpu_architecture: {architecture}\n")
    result = run("render", "dev")
    assert result.exit_code == 0, result.output
    wiring = _architecture_wiring(project / "envs" / "dev")
    assert wiring["ecs"] == architecture
    assert wiring["batch"] == wiring["codepipeline"] == "${module.ecs.cpu_architecture}"
    assert _module(project / "envs" / "dev", "ecs.tf", "ecs")["fargate_spot_weight"] == 100


@pytest.mark.parametrize("value", ["arm64", "AARCH64", "x86"])
def test_an_unknown_architecture_is_one_line_naming_the_key(project: Path, run, value: str):
    edit(project / "envs" / "dev" / "env.yaml", "ecs:\n", f"ecs:\n  cpu_architecture: {value}\n")
    result = run("render", "dev")
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: envs/dev/env.yaml: ecs.cpu_architecture:"), line
