"""Read Terraform modules as data, for tests that assert security properties.

python-hcl2 (8.x) returns block labels and string literals with their quotes
and expressions as "${...}"; these helpers hide that so a test reads like the
property it checks.
"""

from __future__ import annotations

import re
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
