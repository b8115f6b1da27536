"""One Terraform module (a folder of .tf files) as the declarations the checks need."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .parsing import Attribute, Block, bare_identifier, literal_string, parse_file
from .problems import Problem, problem
from .references import Reference, references

# Declared things a reference can name, by block type: resource "T" "N", data "T" "N", ...
RESOURCE_MODES = ("resource", "data", "ephemeral")
REPETITION = ("count", "for_each")

# Blocks whose contents are addresses or settings, not expressions over this module's objects.
_NOT_EXPRESSIONS = {"terraform", "moved", "import", "removed"}
# Attributes that hold addresses, types or provider names rather than value references.
_SKIPPED_ATTRIBUTES = {
    "variable": {"type"},
    "module": {"source", "version", "providers"},
    "lifecycle": {"ignore_changes"},
}
_SKIPPED_META = {"provider"}


@dataclass(frozen=True)
class Variable:
    name: str
    block: Block

    @property
    def has_default(self) -> bool:
        return "default" in self.block.attributes


@dataclass(frozen=True)
class Output:
    name: str
    block: Block


@dataclass(frozen=True)
class ModuleCall:
    name: str
    block: Block

    @property
    def source(self) -> str | None:
        source = self.block.attributes.get("source")
        return literal_string(source.expr) if source else None

    @property
    def repeated(self) -> bool:
        return any(meta in self.block.attributes for meta in REPETITION)


@dataclass(frozen=True)
class Resource:
    mode: str  # "resource", "data" or "ephemeral"
    type: str
    name: str
    block: Block

    @property
    def address(self) -> str:
        prefix = "" if self.mode == "resource" else f"{self.mode}."
        return f"{prefix}{self.type}.{self.name}"

    @property
    def repeated(self) -> bool:
        return any(meta in self.block.attributes for meta in REPETITION)


@dataclass
class Module:
    path: Path
    blocks: list[Block] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    variables: dict[str, Variable] = field(default_factory=dict)
    outputs: dict[str, Output] = field(default_factory=dict)
    locals: dict[str, Attribute] = field(default_factory=dict)
    module_calls: dict[str, ModuleCall] = field(default_factory=dict)
    resources: dict[tuple[str, str, str], Resource] = field(default_factory=dict)

    @property
    def parsed(self) -> bool:
        return not any(p.check == "parse" for p in self.problems)


def tf_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.tf") if p.is_file())


def load_module(folder: Path) -> Module:
    module = Module(folder)
    for path in tf_files(folder):
        blocks, problems = parse_file(path)
        module.blocks.extend(blocks)
        module.problems.extend(problems)
    for block in module.blocks:
        _declare(module, block)
    return module


def _declare(module: Module, block: Block) -> None:
    def duplicate(kind: str, name: str) -> None:
        module.problems.append(problem(block.file, block.line, f'duplicate {kind} "{name}"', "interfaces"))

    labels = block.labels
    if block.type == "variable" and len(labels) == 1:
        if labels[0] in module.variables:
            duplicate("variable", labels[0])
        module.variables.setdefault(labels[0], Variable(labels[0], block))
    elif block.type == "output" and len(labels) == 1:
        if labels[0] in module.outputs:
            duplicate("output", labels[0])
        module.outputs.setdefault(labels[0], Output(labels[0], block))
    elif block.type == "locals":
        for name, attribute in block.attributes.items():
            if name in module.locals:
                module.problems.append(
                    problem(block.file, attribute.line, f'duplicate local "{name}"', "interfaces")
                )
            module.locals.setdefault(name, attribute)
    elif block.type == "module" and len(labels) == 1:
        if labels[0] in module.module_calls:
            duplicate("module", labels[0])
        module.module_calls.setdefault(labels[0], ModuleCall(labels[0], block))
    elif block.type == "check":
        # A check block's scoped data sources are referenced like any other data source.
        for nested in block.blocks_of("data"):
            _declare(module, nested)
    elif block.type in RESOURCE_MODES and len(labels) == 2:
        resource = Resource(block.type, labels[0], labels[1], block)
        key = (block.type, labels[0], labels[1])
        if key in module.resources:
            duplicate(block.type, resource.address)
        module.resources.setdefault(key, resource)


def module_references(module: Module) -> Iterator[tuple[Block, Reference]]:
    """Every reference in the module with the top-level block it appears in."""
    for block in module.blocks:
        if block.type in _NOT_EXPRESSIONS:
            continue
        for ref in block_references(block, frozenset(), top=True):
            yield block, ref


def block_references(block: Block, bound: frozenset[str], top: bool = False) -> Iterator[Reference]:
    skipped = _SKIPPED_ATTRIBUTES.get(block.type, set()) | (_SKIPPED_META if top else set())
    for name, attribute in block.attributes.items():
        if name not in skipped:
            yield from references(attribute.expr, bound)
    for nested in block.blocks:
        if nested.type == "dynamic" and nested.labels:
            yield from _dynamic_references(nested, bound)
        else:
            yield from block_references(nested, bound)


def _dynamic_references(block: Block, bound: frozenset[str]) -> Iterator[Reference]:
    """``dynamic "x"``: ``x`` (or its ``iterator``) is bound in ``labels`` and ``content`` only."""
    iterator_attr = block.attributes.get("iterator")
    iterator = (bare_identifier(iterator_attr.expr) if iterator_attr else None) or block.labels[0]
    inner = bound | {iterator}
    for name, attribute in block.attributes.items():
        if name == "iterator":
            continue
        yield from references(attribute.expr, inner if name == "labels" else bound)
    for nested in block.blocks:
        yield from block_references(nested, inner)
