"""A small evaluator of IAM role trust policies, for the OIDC trust tests.

It covers what those policies use: Allow statements, the sts:AssumeRoleWithWebIdentity action,
a Federated principal, and the StringEquals / StringLike condition operators. As in IAM, every
operator of a statement must match, every key inside an operator must match, and a key with a
list of values matches when any value does; StringLike's `*` matches any run of characters and
`?` one character (IAM User Guide, "IAM JSON policy elements: Condition operators").
"""

from __future__ import annotations

import re
from typing import Any


def _like(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


OPERATORS = {
    "StringEquals": lambda pattern, value: pattern == value,
    "StringLike": _like,
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allows(policy: dict[str, Any], principal: str, claims: dict[str, str]) -> bool:
    """Whether the trust policy lets a web identity of `principal` with these claims assume the role.

    `claims` maps condition keys (token.actions.githubusercontent.com:sub, ...) to the token's values.
    An operator this evaluator does not know makes it fail loudly rather than guess.
    """
    for statement in _as_list(policy["Statement"]):
        if statement.get("Effect") != "Allow":
            continue
        if "sts:AssumeRoleWithWebIdentity" not in _as_list(statement.get("Action", [])):
            continue
        if principal not in _as_list(statement.get("Principal", {}).get("Federated", [])):
            continue
        if all(_condition_holds(op, keys, claims) for op, keys in statement.get("Condition", {}).items()):
            return True
    return False


def _condition_holds(operator: str, keys: dict[str, Any], claims: dict[str, str]) -> bool:
    if operator not in OPERATORS:
        raise AssertionError(f"condition operator {operator} is not modelled by tests/iamhelpers.py")
    match = OPERATORS[operator]
    return all(key in claims and any(match(str(p), claims[key]) for p in _as_list(patterns))
               for key, patterns in keys.items())


def subject_keys(policy: dict[str, Any], claim: str) -> list[tuple[str, list[str]]]:
    """(operator, values) of every condition on `claim` in the policy's statements."""
    found = []
    for statement in _as_list(policy["Statement"]):
        for operator, keys in statement.get("Condition", {}).items():
            if claim in keys:
                found.append((operator, [str(v) for v in _as_list(keys[claim])]))
    return found
