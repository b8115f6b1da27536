"""What the documentation claims, checked against the code it describes."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml
from tfhelpers import MODULES, ROOT, load_module, outputs_of

READMES = sorted(MODULES.glob("*/README.md"))
load_module = functools.cache(load_module)


def app_settings() -> set[str]:
    """Every environment variable the app or its gunicorn config reads (env.str/bool/int/list)."""
    names: set[str] = set()
    for path in [ROOT / "app" / "gunicorn.conf.py", *(ROOT / "app" / "config").rglob("*.py")]:
        names |= set(re.findall(r'env\.(?:str|bool|int|list)\(\s*"([A-Z][A-Z0-9_]*)"', path.read_text()))
    return names


def usage_blocks(readme: Path) -> list[str]:
    return re.findall(r"```hcl\n(.*?)```", readme.read_text(encoding="utf-8"), flags=re.DOTALL)


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_readme_examples_use_only_outputs_that_exist(readme):
    for block in usage_blocks(readme):
        for module, output in set(re.findall(r"\bmodule\.(\w+)\.(\w+)", block)):
            if not (MODULES / module).is_dir():
                continue  # e.g. module.monitoring before that module exists in a checkout
            assert output in outputs_of(load_module(module)), f"{readme.relative_to(ROOT)}: module.{module}.{output}"


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_readme_examples_set_only_settings_the_app_reads(readme):
    known = app_settings()
    sections = r"^\s*(?:environment|secrets)\s*=\s*\{(.*?)^\s*\}"
    for block in usage_blocks(readme):
        for section in re.findall(sections, block, flags=re.MULTILINE | re.DOTALL):
            for name in re.findall(r"^\s*([A-Z][A-Z0-9_]*)\s*=", section, flags=re.MULTILINE):
                assert name in known, f"{readme.relative_to(ROOT)}: the app never reads {name}"


def test_rds_address_output_promises_only_the_tls_mode_the_roots_use():
    description = outputs_of(load_module("rds"))["address"]["description"]
    template = (ROOT / "templates" / "ecs.tf.j2").read_text()
    used = set(re.findall(r"sslmode=([a-z-]+)", template))
    promised = set(re.findall(r"sslmode=([a-z-]+)", description))
    assert used and promised <= used, (promised, used)


def env_yaml(name: str) -> tuple[str, dict]:
    text = (ROOT / "envs" / name / "env.yaml").read_text(encoding="utf-8")
    return text, yaml.safe_load(text) or {}


def test_an_environment_that_claims_prods_shape_has_it():
    _, prod = env_yaml("prod")
    for name in ("dev", "stg"):
        text, settings = env_yaml(name)
        if re.search(r"production's shape|prod's shape", text):
            assert settings.get("network", {}).get("nat") == prod["network"]["nat"], name
            assert settings.get("rds", {}).get("multi_az") == prod["rds"]["multi_az"], name


def test_flow_log_retention_claim_matches_prod():
    comment = (MODULES / "network" / "flow_logs.tf").read_text()
    _, prod = env_yaml("prod")
    if re.search(r"prod keeps them for a year", comment):
        assert prod["network"]["flow_log_retention_days"] >= 365


def test_operating_section_describes_the_deploy_flow_as_built():
    readme = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    operating = readme[readme.index("### Operating"):]
    operating = operating[: operating.index("\n## ")] if "\n## " in operating else operating
    # The flow the code implements (modules/ecs/image.tf, deploy/release.py):
    assert "image tag" in operating and "same apply" in operating
    # ... and not the one it replaced (revisions with the placeholder tag after an apply).
    assert "initial image tag" not in operating
