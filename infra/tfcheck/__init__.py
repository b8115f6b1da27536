"""Offline Terraform checks: parse, interfaces and AWS provider schema, without ``terraform init``.

``check_paths`` is the whole API: pure, deterministic, and it reports bad input as problems
instead of raising. ``render.py lint`` prints the problems.
"""

from __future__ import annotations

import os
from pathlib import Path

from .interfaces import check_interfaces
from .model import Module, load_module, tf_files
from .problems import Problem, problem, sort_problems
from .schema import SchemaError, check_schema, load_schema

__all__ = ["Problem", "check_paths", "module_folders"]


def module_folders(roots: list[Path]) -> list[Path]:
    """Every folder under the roots holding .tf files; hidden folders (.terraform) are skipped."""
    found: set[Path] = set()
    for root in roots:
        if root.is_dir() and tf_files(root):
            found.add(root)
        for dirpath, dirnames, _files in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            folder = Path(dirpath)
            if folder != root and tf_files(folder):
                found.add(folder)
    return sorted(found)


def check_paths(roots: list[Path], schema_path: Path) -> list[Problem]:
    """All problems of every Terraform module under ``roots``, sorted by file and line."""
    problems: list[Problem] = []
    for root in roots:
        if not root.is_dir():
            problems.append(problem(root, None, "no such folder", "parse"))
    try:
        schema = load_schema(schema_path)
    except SchemaError as error:
        schema = None
        problems.append(problem(schema_path, None, str(error), "schema"))

    cache: dict[Path, Module] = {}

    def load(folder: Path) -> Module:
        # Called modules are read once however many roots call them.
        key = folder.resolve()
        if key not in cache:
            cache[key] = load_module(folder)
        return cache[key]

    for folder in module_folders(roots):
        module = load(folder)
        problems.extend(module.problems)
        problems.extend(check_interfaces(module, load))
        if schema is not None:
            problems.extend(check_schema(module, schema))
    return sort_problems(problems)
