"""A small evaluator of AWS IAM identity-based policies, for privilege-escalation tests.

It answers, for one request, what IAM would answer for a principal in the same account with no
resource-based policy, no SCP/RCP and no session policy. Semantics follow the IAM User Guide:

- "Policy evaluation logic": an explicit Deny in any applicable policy overrides every Allow; a
  request that nothing explicitly denies is allowed only if some policy allows it; otherwise it is
  implicitly denied.
- "Permissions boundaries for IAM entities": the effective permissions are the intersection of the
  identity-based policies and the boundary, so an allow needs both; a Deny in either one wins.
- "IAM JSON policy elements: Resource": ARN wildcards, see `_arn_match`.
- "IAM JSON policy elements: Condition operators": see `_key_holds` and `_OPERATORS`.

Anything it does not model raises ValueError instead of guessing: unknown operators (including the
Date*, IpAddress and Binary families), policy variables (`${...}`), and a multivalued context value
under an operator without ForAnyValue:/ForAllValues: (the "Single-valued vs. multivalued context
keys" page says multivalued keys require a set operator).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ALLOW, EXPLICIT_DENY, IMPLICIT_DENY = "allow", "explicit-deny", "implicit-deny"


@dataclass(frozen=True)
class Request:
    action: str  # "iam:CreateRole"; matched case-insensitively, as IAM does
    resource: str  # an ARN, or "*"
    context: dict[str, str | list[str]] = field(default_factory=dict)  # condition keys (case-insensitive)


def evaluate(request: Request, identity: list[dict], boundary: dict | None = None) -> str:
    """'allow', 'explicit-deny' or 'implicit-deny'."""
    # Every statement is evaluated (no short-circuit) so a malformed policy raises whatever the order.
    granted = [_effect_if_applies(s, request) for doc in identity for s in _statements(doc)]
    bounded = [_effect_if_applies(s, request) for s in _statements(boundary)] if boundary is not None else []
    if "Deny" in granted or "Deny" in bounded:
        return EXPLICIT_DENY
    if "Allow" in granted and (boundary is None or "Allow" in bounded):
        return ALLOW
    return IMPLICIT_DENY


def allowed(request: Request, identity: list[dict], boundary: dict | None = None) -> bool:
    return evaluate(request, identity, boundary) == ALLOW


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    """A policy or context value as IAM compares it: JSON true/false/numbers become their text."""
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    if "${" in text:
        raise ValueError(f"policy variables are not supported: {text!r}")
    return text


def _statements(document: dict) -> list[dict]:
    if not isinstance(document, dict) or "Statement" not in document:
        raise ValueError(f"not a policy document: {document!r}")
    return _as_list(document["Statement"])


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """`*` matches any run of characters (including `/` and `:`), `?` exactly one."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def _arn_match(pattern: str, arn: str) -> bool:
    """Resource / ArnLike matching, case-sensitive.

    "IAM JSON policy elements: Resource" (Using wildcards in resource ARNs): `*` and `?` may be used
    within the individual colon-separated segments of an ARN; the service segment itself can't be a
    wildcard. `*` may expand to replace everything within a segment, including `/`. The page adds: "If
    the `*` wildcard is the last character of a resource ARN segment, it can expand to match beyond the
    colon boundaries", while recommending wildcards stay within segments. "Condition operators" says
    of ArnEquals/ArnLike that each of the six colon-delimited components is checked separately.
    So: the first five segments (arn:partition:service:region:account) are compared one by one, a
    wildcard there never reaches a neighbouring segment; the sixth (resource) part, which may hold
    `:` and `/`, is matched as a whole. The one colon-crossing case implemented is the documented one
    that matters: a pattern with fewer than six segments whose last segment ends in `*`, e.g.
    "arn:aws:sqs:*" or "arn:aws:sqs:us-east-1:*", whose final `*` covers the rest of the ARN.
    Whether a trailing `*` inside a full six-segment pattern ("arn:aws:ec2:us-*:111...") may also run
    past its colon is not pinned down by the page; this evaluator says no.
    """
    if _text(pattern) == "*":
        return True
    want, have = pattern.split(":", 5), arn.split(":", 5)
    if len(want) < 6 and want[-1].endswith("*") and len(have) > len(want):
        have = have[: len(want) - 1] + [":".join(have[len(want) - 1 :])]
    return len(want) == len(have) and all(_glob(w, h) for w, h in zip(want, have, strict=True))


def _pick(statement: dict, positive: str, negative: str) -> tuple[list[str], bool]:
    if (positive in statement) == (negative in statement):
        raise ValueError(f"a statement needs exactly one of {positive} / {negative}: {statement!r}")
    key = positive if positive in statement else negative
    return [_text(v) for v in _as_list(statement[key])], key == negative


def _effect_if_applies(statement: dict, request: Request) -> str | None:
    """The statement's Effect if it applies to the request, else None."""
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise ValueError(f"Effect must be Allow or Deny: {statement!r}")
    actions, not_action = _pick(statement, "Action", "NotAction")
    resources, not_resource = _pick(statement, "Resource", "NotResource")
    # NotAction / NotResource: the statement covers everything *not* listed.
    action_hit = any(_glob(a, request.action, ignore_case=True) for a in actions) != not_action
    resource_hit = any(_arn_match(r, request.resource) for r in resources) != not_resource
    conditions_hold = _conditions_hold(statement.get("Condition", {}), request.context)
    return effect if action_hit and resource_hit and conditions_hold else None


def _numeric(compare: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    return lambda policy, value: compare(float(value), float(policy))


# Base operator -> (does the request value match this one policy value?, is it a negated operator?)
_OPERATORS: dict[str, tuple[Callable[[str, str], bool], bool]] = {
    "StringEquals": (operator.eq, False),
    "StringNotEquals": (operator.eq, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.casefold() == v.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.casefold() == v.casefold(), True),
    "StringLike": (_glob, False),
    "StringNotLike": (_glob, True),
    "ArnEquals": (_arn_match, False),  # ArnEquals and ArnLike behave the same, wildcards included
    "ArnLike": (_arn_match, False),
    "ArnNotEquals": (_arn_match, True),
    "ArnNotLike": (_arn_match, True),
    "Bool": (lambda p, v: p.lower() == v.lower(), False),
    "NumericEquals": (_numeric(operator.eq), False),
    "NumericNotEquals": (_numeric(operator.eq), True),
    "NumericLessThan": (_numeric(operator.lt), False),
    "NumericLessThanEquals": (_numeric(operator.le), False),
    "NumericGreaterThan": (_numeric(operator.gt), False),
    "NumericGreaterThanEquals": (_numeric(operator.ge), False),
}
_SET_OPERATORS = ("ForAnyValue", "ForAllValues")


def _conditions_hold(block: dict, context: dict[str, Any]) -> bool:
    """Every operator in the block holds, and within one operator every key holds (AND)."""
    ctx = {key.lower(): value for key, value in context.items()}
    results = [_key_holds(name, key, values, ctx) for name, keys in block.items() for key, values in keys.items()]
    return all(results)


def _key_holds(name: str, key: str, policy_values: Any, ctx: dict[str, Any]) -> bool:
    set_op, _, op = name.rpartition(":")
    if set_op and set_op not in _SET_OPERATORS:
        raise ValueError(f"unknown condition set operator in {name!r}")
    if_exists = op.endswith("IfExists") and op != "IfExists"
    op = op.removesuffix("IfExists") if if_exists else op
    wanted = [_text(v) for v in _as_list(policy_values)]
    raw = ctx.get(key.lower())
    present = raw is not None and raw != []  # an empty list is a null data set
    if op == "Null":
        if set_op or if_exists:
            raise ValueError(f"Null takes no set operator or IfExists: {name!r}")
        # "Null": "true" holds when the key is absent, "false" when it is present.
        return any((w.lower() == "true") != present for w in wanted)
    if op not in _OPERATORS:
        raise ValueError(f"unsupported condition operator {name!r}")
    match, negated = _OPERATORS[op]

    def one(value: Any) -> bool:
        # A list of policy values is an OR; a negated operator holds when none of them matches.
        return any(match(w, _text(value)) for w in wanted) != negated

    if not present:
        if if_exists:
            return True  # "...IfExists": an absent key makes the condition true
        # Set operators ("Single-valued vs. multivalued context keys"): ForAllValues is true when the
        # request has no such key, ForAnyValue false.
        if set_op:
            return set_op == "ForAllValues"
        # "Condition operators" (Important note): an absent key doesn't match, so the condition is false;
        # if the condition requires the key to *not* match (StringNotLike, ArnNotLike, ...) it is true.
        return negated
    values = _as_list(raw)
    if set_op == "ForAllValues":
        return all(one(v) for v in values)
    if set_op == "ForAnyValue":
        return any(one(v) for v in values)
    if len(values) != 1:
        raise ValueError(f"context key {key!r} is multivalued; {name!r} needs ForAnyValue:/ForAllValues:")
    return one(values[0])
