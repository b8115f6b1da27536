"""Every AWS name of an environment, computed from naming.yaml's catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import Environment, parameter_leaf
from .errors import RenderError
from .naming import Rules, build_name, violation


@dataclass(frozen=True)
class Named:
    module: str
    key: str
    kind: str
    name: str


@dataclass(frozen=True)
class EnvNames:
    by_module: dict[str, dict[str, Any]]  # module -> key -> name | [names] | {item: name}
    flat: list[Named]

    def listing(self) -> list[dict[str, str]]:
        return [{"kind": n.kind, "name": n.name} for n in self.flat]


# The EventBridge rules of modules/monitoring (its var.names.rules must have exactly these keys).
EVENT_RULES = ("deployment", "task", "pipeline", "database")


def cache_members(env: Environment) -> list[str]:
    """Suffixes of the replication group's member clusters: ElastiCache names them <group id>-001, -002, ..."""
    return [f"{n:03d}" for n in range(1, env.elasticache.num_cache_clusters + 1)]


def alarm_keys(env: Environment) -> list[str]:
    """One key per alarm of modules/monitoring: the cache alarms once per member cluster ("cache_cpu_001"),
    the waf ones only with a web ACL."""
    keys: list[str] = []
    for kind in type(env.monitoring.alarms).model_fields:
        if kind.startswith("waf_") and not env.waf.enabled:
            continue  # no web ACL, nothing to watch
        keys += [f"{kind}_{member}" for member in cache_members(env)] if kind.startswith("cache_") else [kind]
    return keys


def _expansions(env: Environment) -> dict[str, tuple[list[str], list[str] | None]]:
    """Per placeholder: (labels used in names, keys of the resulting map, or None for a list).

    A map stays a map when it is empty (no secure parameters, no jobs): templates iterate it."""
    alarms = alarm_keys(env)
    return {
        "{az}": (list(env.network.availability_zones), None),
        "{job}": ([job.name for job in env.batch.jobs], [job.name for job in env.batch.jobs]),
        "{param}": ([parameter_leaf(k) for k in env.ssm.secure_parameters], list(env.ssm.secure_parameters)),
        # Labels are [a-z0-9]+: the keys without their underscores (alb_elb_5xx -> albelb5xx).
        "{alarm}": ([key.replace("_", "") for key in alarms], alarms),
        "{rule}": (list(EVENT_RULES), list(EVENT_RULES)),
    }


def _label_keys(placeholder: str) -> str:
    return {"{az}": "network.availability_zones", "{job}": "batch.jobs[].name",
            "{param}": "ssm.secure_parameters", "{alarm}": "monitoring.alarms"}.get(placeholder, "system")


def compute_names(rules: Rules, env: Environment, env_name: str) -> EnvNames:
    problems: list[str] = []
    by_module: dict[str, dict[str, Any]] = {}
    flat: list[Named] = []
    expansions = _expansions(env)

    def one(module: str, key: str, kind: str, labels: dict[str, str], blame: str) -> str | None:
        try:
            name = build_name(rules, kind, labels, env.account_id)
        except RenderError as exc:
            problems.append(f"{blame}: {exc.problems[0]}")
            return None
        flat.append(Named(module, key, kind, name))
        return name

    for module, entries in rules.resources.items():
        names: dict[str, Any] = {}
        for key, (kind, layer, type_, purpose, service) in entries.items():
            base = {"system": env.system, "env": env_name, "layer": layer, "type": type_, "service": service}
            if purpose in expansions:
                labels, keys = expansions[purpose]
                built = [one(module, key, kind, {**base, "purpose": label}, _label_keys(purpose))
                         for label in labels]
                names[key] = built if keys is None else dict(zip(keys, built, strict=True))
            else:
                names[key] = one(module, key, kind, {**base, "purpose": purpose}, "system")
        by_module[module] = names
    for module, entries in rules.derived.items():
        for key, spec in entries.items():
            derived = {}
            for item in spec.items:
                name = spec.format.format(item=item, **by_module.get(module, {}))
                problem = violation(rules, rules.constraint(spec.kind), name)
                if problem:
                    problems.append(f"system: {spec.kind} name {name!r} is impossible: {problem}")
                derived[item] = name
                flat.append(Named(module, key, spec.kind, name))
            by_module.setdefault(module, {})[key] = derived
    if problems:
        raise RenderError(sorted(set(problems)))
    return EnvNames(by_module, flat)
