"""Terraform files as blocks and attributes, read from python-hcl2's raw Lark tree.

The raw tree (``hcl2.parses_to_tree``) rather than ``hcl2.load``'s dicts: it keeps the line of
every block and attribute, tells blocks from object-valued attributes by construction, and keeps
expressions as trees, so references are read from the grammar instead of re-parsed strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import hcl2
from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .problems import Problem, problem


@dataclass(frozen=True)
class Attribute:
    name: str
    expr: Tree
    line: int


@dataclass
class Block:
    type: str
    labels: tuple[str, ...]
    file: Path
    line: int
    attributes: dict[str, Attribute] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def blocks_of(self, block_type: str) -> list[Block]:
        return [b for b in self.blocks if b.type == block_type]


def parse_file(path: Path) -> tuple[list[Block], list[Problem]]:
    """Top-level blocks of one file, or a [parse] problem; never raises."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [], [problem(path, None, f"cannot read: {error}", "parse")]
    try:
        tree = hcl2.parses_to_tree(text)
    except UnexpectedInput as error:
        return [], [problem(path, getattr(error, "line", None), _describe(error), "parse")]
    except Exception as error:  # the library raises other types on odd input; report, never crash
        return [], [problem(path, None, f"cannot parse: {type(error).__name__}: {error}", "parse")]
    body = next(c for c in tree.children if isinstance(c, Tree) and c.data == "body")
    blocks, _ = _read_body(body, path)
    return blocks, []


def _describe(error: UnexpectedInput) -> str:
    # Lark's own messages span several lines with the expected-token sets; one line reads better.
    if isinstance(error, UnexpectedToken):
        token = str(error.token).strip() or error.token.type
        return (
            f'syntax error: unexpected "{token}"'
            if token != "$END"
            else "syntax error: unexpected end of file"
        )
    if isinstance(error, UnexpectedCharacters):
        return f"syntax error: unexpected character {error.char!r}"
    if isinstance(error, UnexpectedEOF):
        return "syntax error: unexpected end of file"
    return f"syntax error: {str(error).splitlines()[0]}"


def _read_body(body: Tree, path: Path) -> tuple[list[Block], dict[str, Attribute]]:
    blocks: list[Block] = []
    attributes: dict[str, Attribute] = {}
    for child in body.children:
        if not isinstance(child, Tree):
            continue
        if child.data == "attribute":
            name = name_of(child.children[0])
            attributes.setdefault(name, Attribute(name, child.children[-1], child.meta.line))
        elif child.data == "block":
            blocks.append(_read_block(child, path))
    return blocks, attributes


def _read_block(node: Tree, path: Path) -> Block:
    parts = [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
    body = parts[-1]
    header = parts[:-1]
    labels = tuple(string_value(p) or "" if p.data == "string" else name_of(p) for p in header[1:])
    nested, attributes = _read_body(body, path)
    return Block(name_of(header[0]), labels, path, node.meta.line, attributes, nested)


def name_of(node: Tree | Token) -> str:
    """The text of an identifier, keyword or literal_value node."""
    if isinstance(node, Token):
        return str(node)
    return "".join(str(t) for t in node.scan_values(lambda v: isinstance(v, Token)))


def string_value(node: Tree) -> str | None:
    """A quoted string's text, or None when it interpolates (it is not a literal then)."""
    if node.data != "string":
        return None
    text = []
    for part in node.children:
        if isinstance(part, Tree) and part.data == "string_part":
            piece = part.children[0]
            if not isinstance(piece, Token):
                return None
            text.append(str(piece))
    return "".join(text)


def literal_string(expr: Tree) -> str | None:
    """The value of an expression that is a plain quoted string, else None."""
    node = expr
    while isinstance(node, Tree) and node.data == "expr_term" and len(node.children) == 1:
        node = node.children[0]
    return string_value(node) if isinstance(node, Tree) else None


def bare_identifier(expr: Tree) -> str | None:
    """``x`` for an expression that is one identifier (e.g. a dynamic block's ``iterator``)."""
    if expr.data == "expr_term" and len(expr.children) == 1:
        child = expr.children[0]
        if isinstance(child, Tree) and child.data == "identifier":
            return name_of(child)
    return None
