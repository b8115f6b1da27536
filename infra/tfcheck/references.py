"""Find the traversals (``var.x``, ``aws_vpc.main.id``, ``module.m["k"].out``) in an expression.

Walks python-hcl2's raw Lark tree, so strings, function names and object keys are told apart from
references by the grammar. Names bound locally are not references: ``for`` expression variables,
template ``%{ for }`` variables, dynamic-block iterators (passed in by the caller) and Terraform's
built-in scopes below.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import hcl2
from lark import Token, Tree

from .parsing import name_of

BUILTIN_ROOTS = frozenset({"each", "count", "self", "path", "terraform"})

_TRAVERSALS = {"get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"}


@dataclass(frozen=True)
class Step:
    kind: str  # "attr", "index" or "splat"
    name: str | None = None


@dataclass(frozen=True)
class Reference:
    root: str
    steps: tuple[Step, ...]
    line: int

    def attr(self, position: int) -> str | None:
        """The attribute name at a step, or None when that step is an index, a splat or absent."""
        if position < len(self.steps) and self.steps[position].kind == "attr":
            return self.steps[position].name
        return None

    def __str__(self) -> str:
        text = self.root
        for step in self.steps:
            text += {"attr": f".{step.name}", "index": "[...]", "splat": "[*]"}[step.kind]
        return text


def references(expr: Tree | Token, bound: frozenset[str] = frozenset()) -> Iterator[Reference]:
    """Every reference in an expression, in source order, roots in ``bound`` left out."""
    if isinstance(expr, Token):
        if expr.type in ("HEREDOC_TEMPLATE", "HEREDOC_TEMPLATE_TRIM"):
            yield from _heredoc_references(expr, bound)
        return
    kind = expr.data
    if kind in _TRAVERSALS:
        yield from _traversal(expr, bound)
    elif kind == "expr_term" and len(expr.children) == 1 and _is_tree(expr.children[0], "identifier"):
        name = name_of(expr.children[0])
        if name not in bound and name not in BUILTIN_ROOTS:
            yield Reference(name, (), _line(expr))
    elif kind in ("for_tuple_expr", "for_object_expr"):
        yield from _for_expression(expr, bound)
    elif kind == "function_call":
        for child in expr.children:
            if _is_tree(child, "arguments"):
                yield from references(child, bound)
    elif kind == "object_elem_key":
        # `{ name = ... }`: a bare key is a literal; `(var.k)` or "${...}" keys are expressions.
        key = expr.children[0]
        if not (_is_tree(key, "expr_term") and _is_tree(key.children[0], "identifier")):
            yield from references(key, bound)
    elif kind == "string":
        inner = bound | _template_for_names(expr)
        for child in expr.children:
            yield from references(child, inner)
    elif kind == "template_for_start":
        # Its own variables are bound for the whole string (above); the collection is the last tree.
        yield from references([c for c in expr.children if _is_tree(c)][-1], bound)
    else:
        for child in expr.children:
            yield from references(child, bound)


def _traversal(expr: Tree, bound: frozenset[str]) -> Iterator[Reference]:
    """Unwind nested ``x.a[i].b`` terms into a root and its steps; index expressions are walked too."""
    steps: list[Step] = []
    index_exprs: list[Tree] = []
    node: Tree = expr
    while _is_tree(node) and node.data in _TRAVERSALS | {"expr_term"}:
        if node.data == "expr_term":
            if len(node.children) != 1 or not _is_tree(node.children[0]):
                break
            if node.children[0].data not in _TRAVERSALS:
                break
            node = node.children[0]
            continue
        base, operation = node.children[0], node.children[1]
        steps[:0] = _steps_of(operation, index_exprs)
        node = base
    for index in index_exprs:
        yield from references(index, bound)
    if _is_tree(node, "expr_term") and len(node.children) == 1 and _is_tree(node.children[0], "identifier"):
        root = name_of(node.children[0])
        if root not in bound and root not in BUILTIN_ROOTS:
            yield Reference(root, tuple(steps), _line(node))
    else:
        # The traversal starts from a call, a parenthesised expression, a tuple...: walk that.
        yield from references(node, bound)


def _steps_of(operation: Tree, index_exprs: list[Tree]) -> list[Step]:
    kind = operation.data
    if kind == "get_attr":
        return [Step("attr", name_of(operation.children[-1]))]
    if kind == "braces_index":
        index_exprs.extend(c for c in operation.children if _is_tree(c) and c.data != "new_line_or_comment")
        return [Step("index")]
    if kind == "short_index":
        return [Step("index")]
    if kind in ("attr_splat", "full_splat"):
        steps = [Step("splat")]
        for child in operation.children:
            if _is_tree(child):
                steps.extend(_steps_of(child, index_exprs))
        return steps
    return []


def _for_expression(expr: Tree, bound: frozenset[str]) -> Iterator[Reference]:
    """``[for k, v in COLLECTION : BODY if COND]``: k and v are bound in BODY and COND only."""
    intro = next(c for c in expr.children if _is_tree(c, "for_intro"))
    names = frozenset(name_of(c) for c in intro.children if _is_tree(c, "identifier"))
    collection = [
        c for c in intro.children if _is_tree(c) and c.data not in ("identifier", "new_line_or_comment")
    ]
    for child in collection:
        yield from references(child, bound)
    for child in expr.children:
        if child is not intro:
            yield from references(child, bound | names)


def _template_for_names(string: Tree) -> frozenset[str]:
    names: set[str] = set()
    for node in string.iter_subtrees():
        if node.data == "template_for_start":
            names.update(name_of(c) for c in node.children if _is_tree(c, "identifier"))
    return frozenset(names)


# Heredocs reach us as one token: their ${...} and %{...} parts are cut out and parsed here.
_HEREDOC_FOR = re.compile(r"^~?\s*for\s+(\w+)(?:\s*,\s*(\w+))?\s+in\s+(.*?)~?\s*$", re.S)
_HEREDOC_IF = re.compile(r"^~?\s*if\s+(.*?)~?\s*$", re.S)


def _heredoc_references(token: Token, bound: frozenset[str]) -> Iterator[Reference]:
    text = str(token)
    pieces = list(_template_pieces(text))
    names = set(bound)
    expressions: list[tuple[int, str]] = []
    for start, marker, inner in pieces:
        if marker == "$":
            expressions.append((start, inner.strip().strip("~")))
        elif match := _HEREDOC_FOR.match(inner):
            names.update(n for n in match.group(1, 2) if n)
            expressions.append((start, match.group(3)))
        elif match := _HEREDOC_IF.match(inner):
            expressions.append((start, match.group(1)))
    for start, source in expressions:
        line = (token.line or 1) + text.count("\n", 0, start)
        try:
            tree = hcl2.parses_to_tree(f"x = {source}\n")
        except Exception:  # a fragment we cut wrongly must not hide the rest of the file
            continue
        attribute = next(tree.find_data("attribute"))
        for ref in references(attribute.children[-1], frozenset(names)):
            yield Reference(ref.root, ref.steps, line)


def _template_pieces(text: str) -> Iterator[tuple[int, str, str]]:
    """(offset, "$" or "%", inner text) of each ``${...}`` / ``%{...}``; ``$${`` escapes are skipped."""
    index = 0
    while index < len(text) - 1:
        if text[index] in "$%" and text[index + 1] == "{":
            if index > 0 and text[index - 1] == text[index]:
                index += 2
                continue
            end = _closing_brace(text, index + 2)
            if end is None:
                return
            yield index, text[index], text[index + 2 : end]
            index = end + 1
        else:
            index += 1


def _closing_brace(text: str, start: int) -> int | None:
    depth, quoted, index = 0, False, start
    while index < len(text):
        char = text[index]
        if quoted:
            if char == "\\":
                index += 1
            elif char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "{":
            depth += 1
        elif char == "}":
            if depth == 0:
                return index
            depth -= 1
        index += 1
    return None


def _is_tree(node: object, data: str | None = None) -> bool:
    return isinstance(node, Tree) and (data is None or node.data == data)


def _line(node: Tree) -> int:
    for token in node.scan_values(lambda v: isinstance(v, Token)):
        if token.line is not None:
            return token.line
    return 0
