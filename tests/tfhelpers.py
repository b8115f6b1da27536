"""Read Terraform modules as data, for tests that assert security properties.

python-hcl2 (8.x) returns block labels and string literals with their quotes
and expressions as "${...}"; these helpers hide that so a test reads like the
property it checks.
"""

from __future__ import annotations

import functools
import re
import shutil
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "modules"


def unquote(value: Any) -> Any:
    """Strip the quotes python-hcl2 keeps around string literals and labels."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def literal(value: Any) -> Any:
    """A value as plain data: quotes stripped, recursively; expressions stay "${...}"."""
    if isinstance(value, dict):
        return {unquote(k): literal(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [literal(v) for v in value]
    return unquote(value)


def load_dir(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Every top-level block of every .tf file in a folder, keyed by block type."""
    merged: dict[str, list[dict[str, Any]]] = {}
    for tf in sorted(path.glob("*.tf")):
        with tf.open(encoding="utf-8") as handle:
            parsed = hcl2.load(handle)
        for block_type, blocks in parsed.items():
            merged.setdefault(block_type, []).extend(blocks)
    return merged


def load_module(name: str) -> dict[str, list[dict[str, Any]]]:
    return load_dir(MODULES / name)


def _labelled(parsed: dict[str, list[dict[str, Any]]], kind: str) -> dict[tuple[str, str], dict[str, Any]]:
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for block in parsed.get(kind, []):
        for rtype, by_name in block.items():
            for rname, body in by_name.items():
                found[(unquote(rtype), unquote(rname))] = literal(body)
    return found


def resources(parsed: dict[str, list[dict[str, Any]]], rtype: str | None = None) -> dict[str, dict[str, Any]]:
    """Resources of one type as {name: body}, or all as {"type.name": body}."""
    every = _labelled(parsed, "resource")
    if rtype is None:
        return {f"{t}.{n}": body for (t, n), body in every.items()}
    return {n: body for (t, n), body in every.items() if t == rtype}


def data_sources(parsed: dict[str, list[dict[str, Any]]], dtype: str | None = None) -> dict[str, dict[str, Any]]:
    every = _labelled(parsed, "data")
    if dtype is None:
        return {f"{t}.{n}": body for (t, n), body in every.items()}
    return {n: body for (t, n), body in every.items() if t == dtype}


def blocks(body: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Nested blocks of one name inside a (literal) resource body."""
    value = body.get(name, [])
    return value if isinstance(value, list) else [value]


def as_list(value: Any) -> list[Any]:
    """A value that may be one item or a list of them, as a list."""
    return value if isinstance(value, list) else [value]


def named_blocks(parsed: dict[str, list[dict[str, Any]]], kind: str) -> dict[str, Any]:
    """Top-level blocks with one label (variable, output, provider) as {label: literal body}."""
    return {name: body for block in parsed.get(kind, []) for name, body in literal(block).items()}


def variables_of(parsed: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return named_blocks(parsed, "variable")


def outputs_of(parsed: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return named_blocks(parsed, "output")


def modules_of(parsed: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    return named_blocks(parsed, "module")


def moves_of(parsed: dict[str, list[dict[str, Any]]]) -> dict[str, str]:
    """The `moved` blocks as {from: to}, each address as the parser writes it ("${...}")."""
    return {literal(m)["from"]: literal(m)["to"] for m in parsed.get("moved", [])}


def scheduler_role_call(parsed: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The module's call of modules/scheduler_role, checked for what every caller passes alike:
    its own schedule group (the role's trust, tested in test_scheduler_role.py), role and policy
    names from its naming catalogue, its `scheduler` policy document and the boundary."""
    call = modules_of(parsed)["scheduler_role"]
    assert call["source"] == "../scheduler_role"
    assert call["schedule_group_name"] == "${var.names.schedule_group}"
    assert call["role_name"] == "${var.names.scheduler_role}"
    assert call["policy_name"] == "${var.names.scheduler_policy}"
    assert call["policy_json"] == "${data.aws_iam_policy_document.scheduler.json}"
    assert call["permissions_boundary_arn"] == "${var.permissions_boundary_arn}"
    return call


def locals_of(parsed: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Every `locals` block merged into one {name: literal value}, parser comments left out."""
    merged: dict[str, Any] = {}
    for block in parsed.get("locals", []):
        merged.update({k: v for k, v in literal(block).items() if not k.startswith("__")})
    return merged


def statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of a (literal) policy document, static and `dynamic "statement"` content."""
    found = list(blocks(document, "statement"))
    for dyn in blocks(document, "dynamic"):
        for content in blocks(dyn.get("statement", {}), "content"):
            found.append(content)
    return found


def validation_regex(variable: dict[str, Any]) -> str:
    """The regex literal inside a variable's validation conditions (the first one)."""
    conditions = " ".join(v["condition"] for v in blocks(variable, "validation"))
    match = re.search(r'regex\("((?:[^"\\]|\\.)*)"', conditions)
    assert match, "no regex() in the validation"
    return match.group(1).encode().decode("unicode_escape")


def walk_keys(value: Any) -> set[str]:
    """Every key at any depth of a parsed body."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            found.add(key)
            found |= walk_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= walk_keys(inner)
    return found


def module_fixture(name: str):
    """A module-scoped fixture that parses modules/<name>: `parsed = module_fixture("rds")`."""

    @pytest.fixture(scope="module")
    def _parsed() -> dict[str, list[dict[str, Any]]]:
        return load_module(name)

    return _parsed


# ---- Where terraform gets the AWS provider in the tests ----

# The tests' terraform runs take the AWS provider where the tools do (tools/tfwork.py): the mirror
# TF_PLUGIN_MIRROR names, else the registry. What stops them is said once, here.
_PROBE_TF = """terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> %d.0" }
  }
}
"""


@functools.cache
def providers_missing() -> str | None:
    """Why terraform cannot get the AWS provider on this machine; None when it can.

    With TF_PLUGIN_MIRROR: its mirror (it must hold the provider). Without: one `terraform init`
    of a configuration that only requires the provider, with envs/dev's lock file when there is
    one (so the plugin cache answers as it will for the roots), probes the registry."""
    import subprocess
    import sys
    import tempfile

    if str(ROOT / "tools") not in sys.path:
        sys.path.insert(0, str(ROOT / "tools"))
    import tfwork

    try:
        terraform = tfwork.terraform_binary()
        providers = tfwork.find_providers()
    except tfwork.CannotRun as exc:
        return str(exc)
    if providers.mirror is not None:
        return None
    with tempfile.TemporaryDirectory(prefix="tf-registry-probe-") as folder:
        Path(folder, "main.tf").write_text(_PROBE_TF % tfwork.required_major(), encoding="utf-8")
        lock = ROOT / "envs" / "dev" / tfwork.LOCK_FILE
        if lock.is_file():
            shutil.copy2(lock, Path(folder, tfwork.LOCK_FILE))
        result = subprocess.run([terraform, "init", "-backend=false", "-input=false", "-no-color"], cwd=folder,
                                env=tfwork.terraform_env(None), capture_output=True, text=True, check=False,
                                timeout=900)
    if result.returncode == 0:
        return None
    output = result.stdout + result.stderr
    unreachable = tfwork.UNREACHABLE.search(output)
    errors = [line.strip() for line in output.splitlines() if line.strip().startswith("Error:")]
    why = unreachable.group(1).strip() if unreachable else (errors or ["no error shown"])[0]
    return f"no TF_PLUGIN_MIRROR, and terraform init cannot get hashicorp/aws from the registry ({why})"


def needs_provider_reason() -> str:
    return f"needs the AWS provider ({providers_missing()})"
