"""Conventions every module keeps: standard files, a README naming each input and output,
described and typed variables, pinned versions and no provider block of its own."""

from __future__ import annotations

import re

import pytest
from tfhelpers import MODULES, blocks, literal, load_module, outputs_of, unquote, variables_of

MODULE_NAMES = sorted(p.name for p in MODULES.iterdir() if (p / "main.tf").exists())


def test_every_module_has_the_standard_files():
    for name in MODULE_NAMES:
        for required in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
            assert (MODULES / name / required).exists(), f"modules/{name}/{required}"


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_readme_names_every_input_and_output(name: str):
    parsed = load_module(name)
    readme = (MODULES / name / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"[a-z0-9_]+", readme))
    variables = {unquote(k) for block in parsed.get("variable", []) for k in block}
    outputs = {unquote(k) for block in parsed.get("output", []) for k in block}
    assert variables, name
    assert not variables - documented, f"undocumented inputs of modules/{name}: {sorted(variables - documented)}"
    assert not outputs - documented, f"undocumented outputs of modules/{name}: {sorted(outputs - documented)}"


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_every_variable_and_output_is_documented(name: str):
    parsed = load_module(name)
    for variable, body in variables_of(parsed).items():
        assert body.get("description"), f"{name}: variable {variable}"
        assert body.get("type"), f"{name}: variable {variable}"
    for output, body in outputs_of(parsed).items():
        assert body.get("description"), f"{name}: output {output}"


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_versions_and_no_provider_block(name: str):
    parsed = load_module(name)
    (terraform,) = parsed["terraform"]
    terraform = literal(terraform)
    assert terraform["required_version"] == ">= 1.11"
    (providers,) = blocks(terraform, "required_providers")
    # modules/ecs uses aws_ecs_service's blue/green arguments, new in 6.4.0.
    minimum = ">= 6.4" if name == "ecs" else ">= 6.0"
    assert providers["aws"] == {"source": "hashicorp/aws", "version": minimum}
    assert "provider" not in parsed  # the env root hands each module the provider of its layer
    assert "tags" not in variables_of(parsed)  # tags come from default_tags


@pytest.fixture(scope="module")
def dev_names() -> set[str]:
    from infra.render import Project, load

    _, _, names = load(Project(MODULES.parent), "dev")
    return {named.name for named in names.flat}


@pytest.mark.parametrize("name", MODULE_NAMES)
def test_readme_example_names_follow_the_naming_rule(name: str, dev_names: set[str]):
    """Every literal in a README's `names = { ... }` example is a name dev really gets."""
    readme = (MODULES / name / "README.md").read_text(encoding="utf-8")
    for block in re.findall(r"^\s*names\s*=\s*\{(.*?)^\s*\}", readme, flags=re.MULTILINE | re.DOTALL):
        for literal_name in re.findall(r'=\s*"([^"]+)"', block):
            assert literal_name in dev_names, f"modules/{name}/README.md: {literal_name!r} is not a dev name"
