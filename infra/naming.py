"""The naming rule: {system}-{env}-{layer}-{type}-{purpose}-{service}.

Pure functions over the rules loaded from naming.yaml. A name is built from its
labels, then fitted to the limits of its Terraform resource type: too long means
truncate and append a short hash of the full name (so names stay unique, stable
and within limits); anything that no shortening can fix is an error.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import RenderError

LABEL_ORDER = ("system", "env", "layer", "type", "purpose", "service")


@dataclass(frozen=True)
class Constraint:
    kind: str
    max: int
    min: int = 1
    chars: str | None = None
    first: str | None = None  # "letter" | "alnum"
    last: str | None = None  # "alnum"
    no_double_delimiter: bool = False
    lower: bool = False
    style: str = "id"  # id | path | alias | tag
    global_: bool = False
    forbidden_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    delimiter: str
    segment_pattern: str
    hash_length: int
    labels: dict[str, list[str]]
    constraints: dict[str, Constraint]
    resources: dict[str, dict[str, list[str]]]
    derived: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)

    def constraint(self, kind: str) -> Constraint:
        try:
            return self.constraints[kind]
        except KeyError:
            raise RenderError(f"naming.yaml: constraints: no entry for resource type {kind!r}") from None


def load_rules(path: Path) -> Rules:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as exc:
        raise RenderError(f"{path.name}: cannot read: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise RenderError(f"{path.name}: invalid YAML: {exc}") from None
    try:
        constraints = {}
        for kind, spec in (raw.get("constraints") or {}).items():
            spec = dict(spec)
            spec["global_"] = spec.pop("global", False)
            spec["forbidden_prefixes"] = tuple(spec.get("forbidden_prefixes", ()))
            constraints[kind] = Constraint(kind=kind, **spec)
        return Rules(
            delimiter=raw["delimiter"],
            segment_pattern=raw["segment_pattern"],
            hash_length=int(raw["hash_length"]),
            labels=raw["labels"],
            constraints=constraints,
            resources=raw["resources"],
            derived=raw.get("derived", {}),
        )
    except KeyError as exc:
        raise RenderError(f"{path.name}: required key {exc.args[0]!r} is missing") from None
    except (AttributeError, TypeError, ValueError) as exc:
        raise RenderError(f"{path.name}: malformed: {exc}") from None


def short_hash(text: str, length: int) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def build_name(rules: Rules, kind: str, labels: dict[str, str], account_id: str | None = None) -> str:
    """The name of one resource, within its type's limits, or RenderError saying why it cannot be."""
    constraint = rules.constraint(kind)
    segments = [labels.get(label, "") for label in LABEL_ORDER]
    if constraint.style == "path":
        # The resource type already says what it is: the service label would repeat it.
        name = "/" + "/".join(s for s in segments[:-1] if s)
    else:
        parts = [s for s in segments if s]
        if constraint.global_ and account_id:
            parts.append(account_id)
        name = rules.delimiter.join(parts)
        if constraint.style == "alias":
            name = "alias/" + name
    return fit(rules, constraint, name)


def fit(rules: Rules, constraint: Constraint, name: str) -> str:
    """Shorten `name` with a hash suffix when it is too long, then check every limit."""
    if constraint.lower:
        name = name.lower()
    if len(name) > constraint.max:
        suffix = short_hash(name, rules.hash_length)
        head = name[: constraint.max - len(suffix) - 1].rstrip(rules.delimiter + "/")
        name = f"{head}{rules.delimiter}{suffix}"
    problem = violation(rules, constraint, name)
    if problem:
        raise RenderError(f"{constraint.kind} name {name!r} is impossible: {problem}")
    return name


def violation(rules: Rules, constraint: Constraint, name: str) -> str | None:
    """Why AWS would reject `name` for this resource type, or None."""
    if len(name) < constraint.min:
        return f"shorter than {constraint.min} characters"
    if len(name) > constraint.max:
        return f"longer than {constraint.max} characters"
    if constraint.chars and not re.match(constraint.chars, name):
        return f"has characters outside {constraint.chars}"
    if constraint.first == "letter" and not name[0].isalpha():
        return "must start with a letter"
    if constraint.first == "alnum" and not name[0].isalnum():
        return "must start with a letter or digit"
    if constraint.last == "alnum" and not name[-1].isalnum():
        return "must end with a letter or digit"
    if constraint.no_double_delimiter and rules.delimiter * 2 in name:
        return f"must not contain {rules.delimiter * 2!r}"
    if constraint.lower and name != name.lower():
        return "must be lowercase"
    for prefix in constraint.forbidden_prefixes:
        if name.startswith(prefix):
            return f"must not start with {prefix!r}"
    return None


def is_segment(rules: Rules, value: str) -> bool:
    return bool(re.match(rules.segment_pattern, value))
