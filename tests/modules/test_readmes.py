"""Every module documents each of its inputs and outputs in its README."""

from __future__ import annotations

import re

import pytest
from tfhelpers import MODULES, load_module, unquote

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
