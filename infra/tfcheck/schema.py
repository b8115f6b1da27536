"""[schema]: aws_* blocks use only what AWS provider 6.x accepts, and reference real attributes.

The schema is the committed ``schema/aws_provider.json`` (see schema/README.md for its format).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from .interfaces import resource_target
from .model import RESOURCE_MODES, Module, module_references
from .parsing import Block
from .problems import Problem, did_you_mean, problem

CHECK = "schema"
META_ARGUMENTS = {"count", "for_each", "depends_on", "provider"}
META_BLOCKS = {"lifecycle", "provisioner", "connection"}
DYNAMIC_ARGUMENTS = {"for_each", "iterator", "labels"}

# Old-provider names whose nearest spelling is not the replacement: say what replaced them.
RENAMED = {
    ("aws_elasticache_replication_group", "replication_group_description"): '"description"',
    ("aws_elasticache_replication_group", "number_cache_clusters"): '"num_cache_clusters"',
    ("aws_elasticache_replication_group", "availability_zones"): '"preferred_cache_cluster_azs"',
    ("aws_elasticache_replication_group", "cluster_mode"): '"num_node_groups" and "replicas_per_node_group"',
    ("aws_eip", "vpc"): 'domain = "vpc"',
    ("aws_db_instance", "name"): '"db_name"',
    ("aws_iam_policy_document", "source_json"): '"source_policy_documents"',
    ("aws_iam_policy_document", "override_json"): '"override_policy_documents"',
    ("aws_ecs_cluster", "capacity_providers"): 'the "aws_ecs_cluster_capacity_providers" resource',
    ("aws_s3_bucket", "acl"): 'the "aws_s3_bucket_acl" resource (or BucketOwnerEnforced ownership)',
    ("aws_s3_bucket", "versioning"): 'the "aws_s3_bucket_versioning" resource',
    ("aws_s3_bucket", "lifecycle_rule"): 'the "aws_s3_bucket_lifecycle_configuration" resource',
    ("aws_s3_bucket", "cors_rule"): 'the "aws_s3_bucket_cors_configuration" resource',
    (
        "aws_s3_bucket",
        "server_side_encryption_configuration",
    ): 'the "aws_s3_bucket_server_side_encryption_configuration" resource',
}

# Legacy "attributes as blocks": the schema lists these as arguments, yet Terraform accepts block
# syntax (and dynamic blocks) for them. Their contents are not described, so are not checked.
ATTRIBUTES_AS_BLOCKS = {
    ("aws_security_group", "ingress"),
    ("aws_security_group", "egress"),
    ("aws_default_security_group", "ingress"),
    ("aws_default_security_group", "egress"),
    ("aws_network_acl", "ingress"),
    ("aws_network_acl", "egress"),
    ("aws_route_table", "route"),
    ("aws_default_route_table", "route"),
}


class SchemaError(Exception):
    pass


def load_schema(path: Path) -> dict[str, Any]:
    """The parsed schema, read once per file version (it is several MB)."""
    try:
        stat = path.stat()
    except OSError as error:
        raise SchemaError(f"cannot read provider schema {path}: {error}") from error
    return _load(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=2)
def _load(path: str, _mtime_ns: int, _size: int) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            schema = json.load(handle)
    except (OSError, ValueError) as error:
        raise SchemaError(f"cannot read provider schema {path}: {error}") from error
    if not all(isinstance(schema.get(mode), dict) for mode in RESOURCE_MODES):
        raise SchemaError(f"provider schema {path} lacks one of {', '.join(RESOURCE_MODES)}")
    return schema


def check_schema(module: Module, schema: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for block in module.blocks:
        if block.type in RESOURCE_MODES and len(block.labels) == 2 and block.labels[0].startswith("aws_"):
            problems.extend(_check_resource(block, schema))
    problems.extend(_check_attribute_references(module, schema))
    return problems


def _address(block: Block) -> str:
    prefix = "" if block.type == "resource" else f"{block.type}."
    return f"{prefix}{block.labels[0]}.{block.labels[1]}"


def _check_resource(block: Block, schema: dict[str, Any]) -> Iterator[Problem]:
    type_ = block.labels[0]
    known = schema[block.type]
    if type_ not in known:
        kind = {"resource": "resource type", "data": "data source", "ephemeral": "ephemeral resource"}[
            block.type
        ]
        yield problem(block.file, block.line, f'unknown {kind} "{type_}"{did_you_mean(type_, known)}', CHECK)
        return
    yield from _check_body(block, known[type_], _address(block), type_, top=True)


def _check_body(block: Block, spec: dict[str, Any], where: str, type_: str, top: bool) -> Iterator[Problem]:
    if spec.get("opaque"):
        return  # the generator could not describe this block: anything goes (schema/README.md)
    arguments: dict[str, Any] = spec.get("arguments", {})
    blocks: dict[str, Any] = spec.get("blocks", {})

    def report(line: int, message: str) -> Problem:
        return problem(block.file, line, f"{where}: {message}", CHECK)

    for name, attribute in block.attributes.items():
        if name in arguments or (top and name in META_ARGUMENTS):
            continue
        if name in blocks:
            yield report(attribute.line, f'"{name}" is a block: write {name} {{ ... }}, not {name} = ...')
        else:
            yield report(attribute.line, f'unknown argument "{name}"{_hint(type_, name, arguments, blocks)}')

    present: dict[str, int] = {}
    for nested in block.blocks:
        if top and nested.type in META_BLOCKS:
            continue
        if nested.type == "dynamic":
            yield from _check_dynamic(nested, blocks, arguments, where, type_, top)
            if nested.labels:
                present.setdefault(nested.labels[0], 0)
            continue
        present[nested.type] = present.get(nested.type, 0) + 1
        if top and (type_, nested.type) in ATTRIBUTES_AS_BLOCKS:
            continue
        if nested.type in blocks:
            yield from _check_body(nested, blocks[nested.type], f"{where}.{nested.type}", type_, top=False)
            if present[nested.type] == 2 and not blocks[nested.type].get("list", True):
                yield report(nested.line, f'at most one "{nested.type}" block is allowed')
        elif nested.type in arguments:
            yield report(
                nested.line, f'"{nested.type}" is an argument: write {nested.type} = ..., not a block'
            )
        else:
            yield report(
                nested.line, f'unknown block "{nested.type}"{_hint(type_, nested.type, arguments, blocks)}'
            )

    for name, argument in sorted(arguments.items()):
        # Object-typed arguments of some resources read like blocks: accept either spelling.
        if argument.get("required") and name not in block.attributes and name not in present:
            yield report(block.line, f'missing required argument "{name}"')
    for name, nested_spec in sorted(blocks.items()):
        if nested_spec.get("required") and name not in present and name not in block.attributes:
            yield report(block.line, f'missing required block "{name}"')


def _check_dynamic(
    dynamic: Block, blocks: dict[str, Any], arguments: dict[str, Any], where: str, type_: str, top: bool
) -> Iterator[Problem]:
    if len(dynamic.labels) != 1:
        yield problem(dynamic.file, dynamic.line, f"{where}: a dynamic block takes one label", CHECK)
        return
    name = dynamic.labels[0]
    legacy = top and (type_, name) in ATTRIBUTES_AS_BLOCKS
    if name not in blocks and not legacy:
        if name in arguments:
            message = f'dynamic "{name}": "{name}" is an argument, not a block'
        else:
            message = f'unknown dynamic block "{name}"{_hint(type_, name, arguments, blocks)}'
        yield problem(dynamic.file, dynamic.line, f"{where}: {message}", CHECK)
        return
    for attribute in dynamic.attributes.values():
        if attribute.name not in DYNAMIC_ARGUMENTS:
            message = (
                f'dynamic "{name}": unknown argument "{attribute.name}" (only for_each, iterator, labels)'
            )
            yield problem(dynamic.file, attribute.line, f"{where}: {message}", CHECK)
    contents = dynamic.blocks_of("content")
    if not contents:
        yield problem(dynamic.file, dynamic.line, f'{where}: dynamic "{name}" has no content block', CHECK)
    for content in contents if not legacy else []:
        yield from _check_body(content, blocks[name], f"{where}.{name}", type_, top=False)


def _hint(type_: str, name: str, arguments: dict[str, Any], blocks: dict[str, Any]) -> str:
    if (type_, name) in RENAMED:
        return f" (replaced by {RENAMED[type_, name]} in AWS provider 6.x)"
    return did_you_mean(name, [*arguments, *blocks])


def _check_attribute_references(module: Module, schema: dict[str, Any]) -> Iterator[Problem]:
    """Only the first attribute after ``T.N`` (and an optional instance key or splat) is checked."""
    for block, ref in module_references(module):
        target = resource_target(ref)
        if target is None:
            continue
        mode, type_, name, used = target
        spec = schema[mode].get(type_) if type_.startswith("aws_") else None
        if spec is None:
            continue  # unknown types are reported at their declaration
        rest = list(ref.steps[used:])
        if rest and rest[0].kind != "attr":
            rest = rest[1:]
        if not rest or rest[0].kind != "attr":
            continue
        attr = rest[0].name or ""
        readable = {*spec.get("attributes", []), *spec.get("arguments", {}), *spec.get("blocks", {})}
        if attr not in readable:
            address = f"{'' if mode == 'resource' else mode + '.'}{type_}.{name}"
            message = f'{address}: "{type_}" has no attribute "{attr}"{did_you_mean(attr, readable)}'
            yield problem(block.file, ref.line, message, CHECK)
