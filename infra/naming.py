"""The naming rule: {system}-{env}-{layer}-{type}-{purpose}-{service}.

Pure functions over the rules loaded from naming.yaml. A name is built from its
labels, then fitted to the limits of its Terraform resource type: too long means
truncate and append a short hash of the full name (so names stay unique, stable
and within limits); anything that no shortening can fix is an error.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from .config import Strict
from .errors import RenderError
from .loader import describe, dotted, read_yaml

LABEL_ORDER = ("system", "env", "layer", "type", "purpose", "service")
# Purposes of naming.yaml's catalogue that expand to one name per item (infra/names.py).
PLACEHOLDERS = ("{az}", "{job}", "{param}", "{alarm}", "{rule}")


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression ({exc})") from None
    return value


Regex = Annotated[str, Field(min_length=1)]


class Constraint(Strict):
    """What AWS accepts for the name of one Terraform resource type (naming.yaml: constraints)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)

    kind: str  # the key under constraints, filled in by Rules
    max: int = Field(ge=1, le=2048)
    min: int = Field(default=1, ge=1, le=2048)
    chars: Regex | None = None
    first: Literal["letter", "alnum"] | None = None
    last: Literal["alnum"] | None = None
    no_double_delimiter: bool = False
    lower: bool = False
    style: Literal["id", "path", "alias", "tag"] = "id"
    global_: bool = Field(default=False, alias="global")
    forbidden_prefixes: list[str] = []

    _chars = field_validator("chars")(classmethod(lambda cls, v: v if v is None else _regex(v)))

    @model_validator(mode="after")
    def _bounds(self) -> Constraint:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self


class Labels(Strict):
    """The allowed labels of each dimension a name takes from naming.yaml rather than from the YAML of an env."""

    env: list[str] = Field(min_length=1)
    layer: list[str] = Field(min_length=1)

    def __getitem__(self, dimension: str) -> list[str]:
        return getattr(self, dimension)


class Derived(Strict):
    kind: str
    format: str
    items: list[str] = Field(min_length=1)


# [kind, layer, type, purpose, service]
Entry = Annotated[list[str], Field(min_length=5, max_length=5)]


class Rules(Strict):
    delimiter: str = Field(min_length=1, max_length=1)
    segment_pattern: str
    # The suffix of a shortened name: at least 4 hex digits (65,536 values) keep two shortened
    # names of one environment apart; more than 12 would leave little of a 32-character name.
    hash_length: int = Field(ge=4, le=12)
    labels: Labels
    constraints: dict[str, Constraint]
    resources: dict[str, dict[str, Entry]]
    derived: dict[str, dict[str, Derived]] = {}

    @field_validator("segment_pattern")
    @classmethod
    def _anchored(cls, value: str) -> str:
        if not (value.startswith("^") and value.endswith("$")):
            raise ValueError("must start with ^ and end with $, so that it judges a whole label")
        return _regex(value)

    @model_validator(mode="before")
    @classmethod
    def _kinds(cls, data: Any) -> Any:
        """Each constraint knows its resource type: the key it is listed under."""
        if isinstance(data, dict) and isinstance(data.get("constraints"), dict):
            data = {**data, "constraints": {kind: {**spec, "kind": kind} if isinstance(spec, dict) else spec
                                            for kind, spec in data["constraints"].items()}}
        return data

    def constraint(self, kind: str) -> Constraint:
        try:
            return self.constraints[kind]
        except KeyError:
            raise RenderError(f"naming.yaml: constraints: no entry for resource type {kind!r}") from None


def rule_problems(rules: Rules) -> list[tuple[tuple[str | int, ...], str]]:
    """(key path, reason) for each way naming.yaml contradicts itself; its sections are valid alone."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    delimiter, pattern = rules.delimiter, rules.segment_pattern

    def segment(loc: tuple[str | int, ...], label: str) -> None:
        if not re.match(pattern, label):
            problems.append((loc, f"{label!r} does not match segment_pattern {pattern!r}"))
        elif label != label.lower():
            # AWS lower-cases some names (RDS, ElastiCache, S3): one environment's names would differ in case.
            problems.append((loc, f"{label!r} must be lowercase"))

    if re.match(pattern, f"a{delimiter}b"):
        problems.append((("segment_pattern",), f"allows the delimiter {delimiter!r} inside a label, "
                                               "so a name no longer splits back into its labels"))
    refused = [kind for kind, c in rules.constraints.items()
               if c.style == "id" and c.chars and not re.match(c.chars, f"a{delimiter}b")]
    if refused:
        problems.append((("delimiter",), f"{delimiter!r} is not allowed in the names of {', '.join(refused)}"))
    for dimension in ("env", "layer"):
        seen: set[str] = set()
        for index, label in enumerate(rules.labels[dimension]):
            segment(("labels", dimension, index), label)
            if label in seen:
                problems.append((("labels", dimension, index), f"{label!r} is listed twice"))
            seen.add(label)
    for module, entries in rules.resources.items():
        for key, (kind, layer, type_, purpose, service) in entries.items():
            loc = ("resources", module, key)
            if kind not in rules.constraints:
                problems.append(((*loc, 0), f"no entry for resource type {kind!r} under constraints"))
            if layer not in rules.labels.layer:
                problems.append(((*loc, 1), f"layer {layer!r} is not in labels.layer"))
            segment((*loc, 2), type_)
            if purpose not in PLACEHOLDERS:
                segment((*loc, 3), purpose)
            segment((*loc, 4), service)
    for module, entries in rules.derived.items():
        for key, spec in entries.items():
            if spec.kind not in rules.constraints:
                problems.append((("derived", module, key, "kind"),
                                 f"no entry for resource type {spec.kind!r} under constraints"))
    return problems


def load_rules(path: Path) -> Rules:
    """naming.yaml, validated like the YAML of an environment: one line per problem, naming the key."""
    shown = Path(path.name)
    raw = read_yaml(path, str(shown))
    try:
        rules = Rules.model_validate(raw)
    except ValidationError as exc:
        raise RenderError([describe(e, {}, shown, Rules) for e in exc.errors()]) from None
    problems = rule_problems(rules)
    if problems:
        raise RenderError([f"{shown}: {dotted(loc)}: {reason}" for loc, reason in problems])
    return rules


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
