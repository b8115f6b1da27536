"""[interfaces]: references resolve, module calls match the called module, everything is documented."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from .model import REPETITION, Module, ModuleCall, Resource, module_references, tf_files
from .problems import Problem, did_you_mean, problem
from .references import Reference

CHECK = "interfaces"
MODULE_META_ARGUMENTS = {"source", "version", "count", "for_each", "providers", "depends_on"}

ModuleLoader = Callable[[Path], Module]


def check_interfaces(module: Module, load: ModuleLoader) -> list[Problem]:
    problems = list(_style(module))
    for call in module.module_calls.values():
        problems.extend(_module_call(module, call, load))
    for block, ref in module_references(module):
        problems.extend(_reference(module, block.file, ref, load))
    return problems


def _style(module: Module) -> Iterator[Problem]:
    # STYLE.md: every variable documented and typed, every output documented.
    for variable in module.variables.values():
        block = variable.block
        for required in ("description", "type"):
            if required not in block.attributes:
                yield problem(block.file, block.line, f'variable "{variable.name}" has no {required}', CHECK)
    for output in module.outputs.values():
        if "description" not in output.block.attributes:
            block = output.block
            yield problem(block.file, block.line, f'output "{output.name}" has no description', CHECK)


def called_module_path(module: Module, call: ModuleCall) -> Path | None:
    """The folder of a local module call (``./x``, ``../x``); registry and git sources have none."""
    source = call.source
    if source is None or not source.startswith(("./", "../")):
        return None
    return Path(os.path.normpath(module.path / source))


def _module_call(module: Module, call: ModuleCall, load: ModuleLoader) -> Iterator[Problem]:
    folder = called_module_path(module, call)
    if folder is None:
        return
    block = call.block
    if not folder.is_dir() or not tf_files(folder):
        yield problem(
            block.file, block.line, f'module "{call.name}": source "{call.source}" has no .tf files', CHECK
        )
        return
    callee = load(folder)
    if not callee.parsed:
        return  # its parse problems are reported where it is checked; guessing here would mislead
    for name, attribute in block.attributes.items():
        if name not in MODULE_META_ARGUMENTS and name not in callee.variables:
            hint = did_you_mean(name, callee.variables)
            yield problem(
                block.file, attribute.line, f'module "{call.name}": unknown input "{name}"{hint}', CHECK
            )
    for variable in callee.variables.values():
        if not variable.has_default and variable.name not in block.attributes:
            message = f'module "{call.name}": missing required input "{variable.name}"'
            yield problem(block.file, block.line, message, CHECK)


def _reference(module: Module, file: Path, ref: Reference, load: ModuleLoader) -> Iterator[Problem]:
    def report(message: str) -> Problem:
        return problem(file, ref.line, message, CHECK)

    if ref.root == "var":
        name = ref.attr(0)
        if name and name not in module.variables:
            yield report(f'undeclared variable "var.{name}"{did_you_mean(name, module.variables)}')
    elif ref.root == "local":
        name = ref.attr(0)
        if name and name not in module.locals:
            yield report(f'undefined local "local.{name}"{did_you_mean(name, module.locals)}')
    elif ref.root == "module":
        yield from (report(m) for m in _module_output(module, ref, load))
    else:
        yield from (report(m) for m in _resource(module, ref))


def _module_output(module: Module, ref: Reference, load: ModuleLoader) -> Iterator[str]:
    name = ref.attr(0)
    if name is None:
        return
    call = module.module_calls.get(name)
    if call is None:
        yield f'unknown module "module.{name}"{did_you_mean(name, module.module_calls)}'
        return
    rest = ref.steps[1:]
    if call.repeated and rest and rest[0].kind == "attr":
        yield _repetition_message(f"module.{name}", call.block.attributes, rest[0].name)
        return
    if not call.repeated and rest and rest[0].kind == "index":
        yield _single_instance_message(f"module.{name}")
        return
    output = ref.attr(2) if rest and rest[0].kind != "attr" else ref.attr(1)
    folder = called_module_path(module, call)
    if output is None or folder is None or not tf_files(folder):
        return
    callee = load(folder)
    if callee.parsed and output not in callee.outputs:
        hint = did_you_mean(output, callee.outputs)
        yield f'module "{name}" ({call.source}) has no output "{output}"{hint}'


def resource_target(ref: Reference) -> tuple[str, str, str, int] | None:
    """(mode, type, name, steps used) when a reference names a resource, data or ephemeral block."""
    if ref.root in ("data", "ephemeral"):
        type_, name = ref.attr(0), ref.attr(1)
        return (ref.root, type_, name, 2) if type_ and name else None
    name = ref.attr(0)
    # Any other root with an underscore is a resource type, as Terraform reads it; roots without one
    # are provider aliases (aws.us_east_1) or type keywords, not references to declared blocks.
    if "_" in ref.root and name:
        return ("resource", ref.root, name, 1)
    return None


def _resource(module: Module, ref: Reference) -> Iterator[str]:
    target = resource_target(ref)
    if target is None:
        return
    mode, type_, name, used = target
    declared: Resource | None = module.resources.get((mode, type_, name))
    if declared is None:
        address = f"{'' if mode == 'resource' else mode + '.'}{type_}.{name}"
        known = [r.address for r in module.resources.values()]
        kind = {"resource": "resource", "data": "data source", "ephemeral": "ephemeral resource"}[mode]
        yield f'undeclared {kind} "{address}"{did_you_mean(address, known)}'
        return
    rest = ref.steps[used:]
    if declared.repeated and rest and rest[0].kind == "attr":
        yield _repetition_message(declared.address, declared.block.attributes, rest[0].name)
    elif not declared.repeated and rest and rest[0].kind == "index":
        yield _single_instance_message(declared.address)


def _repetition_message(address: str, attributes: dict, attr: str | None) -> str:
    meta = next(m for m in REPETITION if m in attributes)
    # A splat reads a count list; a for_each map needs values() or a for expression first.
    collection = f"{address}[*].{attr}" if meta == "count" else f"[for x in {address} : x.{attr}]"
    key = "[0]" if meta == "count" else '["key"]'
    return (
        f'"{address}.{attr}": {address} has {meta}: use an instance ({address}{key}.{attr}) or {collection}'
    )


def _single_instance_message(address: str) -> str:
    return f"{address} has neither count nor for_each: reference it without an instance key"
