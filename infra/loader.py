"""Load an environment: read common.yaml and ENV/env.yaml, deep-merge, validate.

Errors name the file that set the offending key and the key's dotted path, one
line per problem, with a did-you-mean for misspelt keys.
"""

from __future__ import annotations

import difflib
import ipaddress
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from .config import Environment, backup_problems, deployment_problems, https_problems
from .endpoints import endpoint_problems
from .errors import RenderError
from .sleep import sleep_problems

KeyPath = tuple[str | int, ...]

# Keys every environment shares: the first label of every name, and the region the cost and
# the rendered settings assume. (account_id is per environment: one AWS account each.)
SHARED_KEYS = frozenset({"system", "region"})
# Keys every environment sets in its own env.yaml: inherited from common.yaml, a new environment
# would deploy from the branch of another, and a push to it would apply both at once.
OWN_KEYS: tuple[KeyPath, ...] = (("codepipeline", "branch"),)


# libyaml's parser where PyYAML was built with it (its wheels are), the pure-Python one
# otherwise: the same documents and marks, several times faster (parsing was most of
# `render.py check`).
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):
    """PyYAML keeps the last of two equal keys silently; a setting given twice is a mistake."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path, shown: str | None = None) -> dict[str, Any]:
    """A YAML mapping, or RenderError naming the file (and line, for syntax errors)."""
    shown = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RenderError(f"{shown}: no such file") from None
    except OSError as exc:
        raise RenderError(f"{shown}: cannot read: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f":{mark.line + 1}" if mark else ""
        raise RenderError(f"{shown}{where}: invalid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise RenderError(f"{shown}: invalid YAML: {exc}") from None
    if data is None:
        raise RenderError(f"{shown}: the file is empty; it must hold a mapping of settings")
    if not isinstance(data, dict):
        raise RenderError(f"{shown}: the top level must be a mapping of settings, not a {type(data).__name__}")
    return data


def merge(base: dict[str, Any], override: dict[str, Any], source: Path,
          origins: dict[KeyPath, Path], prefix: KeyPath = ()) -> dict[str, Any]:
    """Deep-merge mappings (lists and scalars replace), recording which file set each key."""
    merged = dict(base)
    for key, value in override.items():
        path = (*prefix, key)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value, source, origins, path)
        else:
            merged[key] = value
            for known in [p for p in origins if p[: len(path)] == path]:
                del origins[known]
            _record(value, source, origins, path)
    return merged


def _record(value: Any, source: Path, origins: dict[KeyPath, Path], path: KeyPath) -> None:
    origins[path] = source
    if isinstance(value, dict):
        for key, child in value.items():
            _record(child, source, origins, (*path, key))


def origin_of(loc: KeyPath, origins: dict[KeyPath, Path], fallback: Path) -> Path:
    for end in range(len(loc), 0, -1):
        if loc[:end] in origins:
            return origins[loc[:end]]
    return fallback


def _model_at(model: type[BaseModel], loc: KeyPath) -> type[BaseModel] | None:
    """The pydantic model that holds the key at `loc` (for did-you-mean)."""
    current: Any = model
    keyed = 0  # parts of `loc` that are keys of a mapping, not fields
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = max(keyed - 1, 0)
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current, keyed = _unwrap(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> tuple[Any, int]:
    """Optional[X] / list[X] / dict[str, X] -> X, to walk into nested models, and how many
    mapping keys the walk passes on the way (the keys of a location that are not fields)."""
    keyed = 0
    for _ in range(3):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) is None or not args:
            break
        keyed += get_origin(annotation) is dict
        annotation = args[-1] if get_origin(annotation) is dict else args[0]
    return annotation, keyed


def _keys(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts, as written in YAML (`global`, not its field `global_`)."""
    return sorted(field.alias or name for name, field in model.model_fields.items())


def dotted(loc: KeyPath) -> str:
    """("network", "cidr") -> network.cidr; ("jobs", 0, "name") -> jobs[0].name."""
    return ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc).replace(".[", "[")


def describe(error: dict[str, Any], origins: dict[KeyPath, Path], fallback: Path,
             model: type[BaseModel] = Environment) -> str:
    """One pydantic error of `model` as one line: the file that set the key, its dotted path, why."""
    loc: KeyPath = tuple(error["loc"])
    # Errors raised by a model-level validator carry no field: they concern the whole section.
    where = origin_of(loc, origins, fallback)
    if error["type"] == "extra_forbidden":
        parent = _model_at(model, loc[:-1])
        known = _keys(parent) if parent else []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1)
        hint = f' (did you mean "{close[0]}"?)' if close else f" (allowed: {', '.join(known)})" if known else ""
        return f"{where}: {dotted(loc)}: unknown key{hint}"
    if error["type"] == "missing":
        return f"{where}: {dotted(loc)}: required key is missing"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    shown = "" if isinstance(value, (dict, list)) or value is None else f" (got {value!r})"
    return f"{where}: {dotted(loc) or '(top level)'}: {message}{shown}"


def _has(data: Any, key: KeyPath) -> bool:
    for part in key:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def cross_environment_problems(envs_dir: Path, envs: dict[str, Environment]) -> list[str]:
    """Rules between environments, each reported at the env.yaml of the later one in label order."""
    problems: list[str] = []
    names = list(envs)
    for index, name in enumerate(names):
        env, where = envs[name], Path(envs_dir.name) / name / "env.yaml"
        for other in names[:index]:
            earlier = envs[other]
            if (earlier.codepipeline.repository, earlier.codepipeline.branch) == (
                    env.codepipeline.repository, env.codepipeline.branch):
                problems.append(f"{where}: codepipeline.branch: {env.codepipeline.branch!r} is {other}'s deploy "
                                f"branch too, so a push to it would apply both; give each environment its own")
            if ipaddress.IPv4Network(earlier.network.cidr).overlaps(ipaddress.IPv4Network(env.network.cidr)):
                # Distinct ranges keep peering, a transit gateway or a VPN between environments possible.
                problems.append(f"{where}: network.cidr: {env.network.cidr} overlaps {other}'s "
                                f"{earlier.network.cidr}; give each environment its own range")
    return problems


def load_environment(envs_dir: Path, env: str, allowed_envs: list[str],
                     overrides: tuple[tuple[str, dict[str, Any]], ...] = ()) -> Environment:
    """Paths in messages are shown relative to the folder that holds envs/ (the project root).

    `overrides` are (source, partial settings) merged over env.yaml in order, as a further file
    would be (the cost estimate's what-ifs); a problem they cause names their source.
    """
    if env not in allowed_envs:
        raise RenderError(f"naming.yaml: labels.env: unknown environment {env!r} "
                          f"(allowed: {', '.join(allowed_envs)})")
    common_path = Path(envs_dir.name) / "common.yaml"
    env_path = Path(envs_dir.name) / env / "env.yaml"
    problems: list[str] = []
    loaded: dict[Path, dict[str, Any]] = {}
    for path in (common_path, env_path):
        try:
            loaded[path] = read_yaml(envs_dir.parent / path, str(path))
        except RenderError as exc:
            problems.extend(exc.problems)
    if problems:
        raise RenderError(problems)
    shared = sorted(SHARED_KEYS & loaded[env_path].keys())
    if shared:
        raise RenderError([f"{env_path}: {key}: set it in {common_path} only; every environment shares "
                           "one naming system and region" for key in shared])
    problems = [f"{common_path}: {dotted(key)}: set it in each environment's env.yaml, not here: an "
                "environment that inherits it deploys from another's branch"
                for key in OWN_KEYS if _has(loaded[common_path], key)]
    if problems:
        raise RenderError(problems)
    origins: dict[KeyPath, Path] = {}
    merged = merge({}, loaded[common_path], common_path, origins)
    merged = merge(merged, loaded[env_path], env_path, origins)
    for source, partial in overrides:
        merged = merge(merged, partial, Path(source), origins)
    # Missing, they are missing from the environment's own file.
    origins.update({key: env_path for key in OWN_KEYS})
    try:
        env_model = Environment.model_validate(merged)
    except ValidationError as exc:
        raise RenderError([describe(e, origins, env_path) for e in exc.errors()]) from None
    # Rules across sections, reported at the environment's own file: that is where they are fixed.
    problems = [f"{env_path}: {'.'.join(loc)}: {reason}"
                for loc, reason in https_problems(env_model) + endpoint_problems(env_model)
                + backup_problems(env_model) + sleep_problems(env_model) + deployment_problems(env_model)]
    if problems:
        raise RenderError(problems)
    return env_model
