"""Properties of the naming rule and the renderer over random input (hypothesis).

- A name built from any valid labels satisfies its resource type's limits.
- Distinct labels give distinct names (the hash suffix keeps cut names apart).
- A randomly corrupted env.yaml never gives a traceback, and never a partly written root:
  either the render succeeds and `check` agrees, or it fails with one-line errors naming the
  file, and every file is as it was.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import render
from infra.naming import LABEL_ORDER, build_name, load_rules, violation

ROOT = Path(__file__).resolve().parents[2]
RULES = load_rules(ROOT / "naming.yaml")
KINDS = sorted(RULES.constraints)

segment = st.from_regex(r"[a-z0-9]{1,24}", fullmatch=True)
# The system label starts a name: AWS wants a letter there for some types, and an ALB name
# may not start with "internal-" (naming.yaml's forbidden prefix).
system = st.from_regex(r"[a-z][a-z0-9]{0,11}", fullmatch=True).filter(lambda s: not s.startswith("internal"))
label_sets = st.fixed_dictionaries({"system": system, **{name: segment for name in LABEL_ORDER[1:]}})
account = st.from_regex(r"[0-9]{12}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(KINDS), labels=label_sets, account_id=account)
def test_a_name_from_valid_labels_satisfies_its_limits(kind, labels, account_id):
    name = build_name(RULES, kind, labels, account_id=account_id)
    constraint = RULES.constraint(kind)
    assert violation(RULES, constraint, name) is None
    assert constraint.min <= len(name) <= constraint.max


def _used(kind: str, labels: dict[str, str]) -> tuple[str, ...]:
    # A path-style name leaves out the service label: the resource type already says it.
    used = LABEL_ORDER[:-1] if RULES.constraint(kind).style == "path" else LABEL_ORDER
    return tuple(labels[name] for name in used)


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(KINDS), first=label_sets, second=label_sets)
def test_distinct_labels_give_distinct_names(kind, first, second):
    assume(_used(kind, first) != _used(kind, second))
    assert build_name(RULES, kind, first, "123456789012") != build_name(RULES, kind, second, "123456789012")


# ---- Corrupted env.yaml ----

YAML_NOISE = st.text(alphabet=st.sampled_from(list("abcz019 :-{}[],#&*!|>'\"%@`\n\t\\~?.=")), max_size=12)


@st.composite
def corrupted_text(draw, text: str) -> str:
    """A byte-level edit: a slice of the file replaced with YAML-ish noise."""
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 20)))
    return text[:start] + draw(YAML_NOISE) + text[end:]


def _key_paths(data: object, prefix: tuple = ()) -> list[tuple]:
    if not isinstance(data, dict):
        return [prefix]
    paths = [prefix] if prefix else []
    for key, value in data.items():
        paths += _key_paths(value, (*prefix, key))
    return paths


ODD_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=True), st.text(max_size=30),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@st.composite
def corrupted_value(draw, text: str, common: dict) -> str:
    """A semantic edit: one setting (from common.yaml's keys) given a value of any type."""
    data = yaml.safe_load(text) or {}
    path = draw(st.sampled_from(_key_paths(common)))
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(node, dict) else node
    if isinstance(node, dict):
        node[path[-1]] = draw(ODD_VALUES)
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory) -> Path:
    """The renderer's inputs and the committed dev root, in a folder the test may break."""
    root = tmp_path_factory.mktemp("props")
    shutil.copy(ROOT / "naming.yaml", root / "naming.yaml")
    shutil.copytree(ROOT / "templates", root / "templates")
    shutil.copytree(ROOT / "envs", root / "envs", ignore=shutil.ignore_patterns(".terraform*"))
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "envs").rglob("*")) if p.is_file()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_corrupted_env_yaml_never_crashes_nor_half_writes(project_copy, data):
    env_yaml = project_copy / "envs" / "dev" / "env.yaml"
    original = (ROOT / "envs" / "dev" / "env.yaml").read_text(encoding="utf-8")
    common = yaml.safe_load((ROOT / "envs" / "common.yaml").read_text(encoding="utf-8"))
    corrupted = data.draw(st.one_of(corrupted_text(original), corrupted_value(original, common)))
    try:
        env_yaml.write_text(corrupted, encoding="utf-8")
        before = _snapshot(project_copy)
        result = CliRunner().invoke(render.cli, ["--root", str(project_copy), "render", "dev"])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        assert "Traceback" not in result.output
        if result.exit_code == 0:
            checked = CliRunner().invoke(render.cli, ["--root", str(project_copy), "check", "dev"])
            assert checked.exit_code == 0, checked.output
        else:
            assert result.exit_code == 2
            lines = result.stderr.splitlines()
            assert lines and all(line.startswith("error: ") for line in lines), result.stderr
            assert all(len(line) < 2000 for line in lines)
            assert _snapshot(project_copy) == before, "a failed render changed files"
    finally:
        # Back to the committed state for the next example.
        env_yaml.write_text(original, encoding="utf-8")
        for path in (ROOT / "envs" / "dev").glob("*.tf"):
            shutil.copy(path, project_copy / "envs" / "dev" / path.name)
        for path in (ROOT / "envs" / "bootstrap" / "dev").glob("*.tf"):
            shutil.copy(path, project_copy / "envs" / "bootstrap" / "dev" / path.name)
