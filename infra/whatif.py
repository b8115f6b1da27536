"""What if an environment chose otherwise: its estimate again with one setting of its YAML changed.

Each option is a partial YAML merged over envs/ENV/env.yaml and validated by infra/config.py like
any env.yaml (infra/loader.py), so only what the YAML can select is ever priced: an option the
model or the cross-section rules refuse is shown with the refusal instead of a price. The options
compared are the ones that move the bill most: NAT gateways per zone, one, or none with interface
endpoints; the CPU architecture; the share of service tasks on Fargate Spot; sleeping hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .config import Environment, WorkingHours
from .cost import Line, PriceTable, estimate, with_assumption
from .endpoints import allowed_services, needed_without_nat
from .errors import RenderError
from .loader import load_environment
from .names import EnvNames, compute_names
from .naming import Rules

Layers = tuple[tuple[str, dict[str, Any]], ...]  # (source shown in messages, partial settings)

# The sleeping schedule priced for an environment awake around the clock: common.yaml's example.
OFFICE_HOURS = {"timezone": "Asia/Tokyo", "days": ["MON", "TUE", "WED", "THU", "FRI"], "start": "08:00",
                "end": "21:00"}
# When the sleeping option runs the scheduled jobs: before the night, on working days.
OFFICE_JOB_SCHEDULE = "cron(0 20 ? * MON-FRI *)"
OFFICE_JOB_TIME = "20:00 on working days"
# Fargate Spot shares the YAML can select: (fargate_spot_weight, fargate_base or None to keep it).
SPOT_CHOICES = ((0, None, "on-demand only"), (1, None, "half beyond the base on Spot"), (100, 0, "all Spot"))
# The traffic the break-even is solved for: what NAT gateways carry, which endpoints carry without them.
TRAFFIC = "nat_data_gb_per_month"
# The prices the options move, listed with their sources under the what-if tables.
OPTION_PRICES = ("nat_gateway_hour", "nat_gateway_gb", "public_ipv4_hour", "interface_endpoint_hour",
                 "interface_endpoint_gb", "fargate_vcpu_hour", "fargate_gb_hour", "fargate_spot_discount",
                 "rds_postgres_instance_hour")


@dataclass(frozen=True)
class Option:
    group: str  # options of one group are alternatives to each other
    label: str
    settings: dict[str, Any]  # merged over env.yaml


@dataclass(frozen=True)
class Row:
    option: Option | None  # None: the environment as its YAML says
    total: float | None  # None: the YAML cannot select it
    problem: str = ""


@dataclass(frozen=True)
class WhatIf:
    env: str
    current: Environment
    rows: list[Row]  # the current estimate first
    breakeven: list[str]  # one sentence per NAT choice compared with endpoints

    @property
    def base(self) -> float:
        return self.rows[0].total or 0.0


def load_variant(envs_dir: Path, rules: Rules, env_name: str, layers: Layers = ()) -> tuple[Environment, EnvNames]:
    """ENV's settings with `layers` merged over its env.yaml, validated as the renderer does."""
    try:
        env = load_environment(envs_dir, env_name, rules.labels["env"], layers)
    except RenderError as exc:
        # Rules across sections blame env.yaml; say which override made the environment break them.
        sources = [source for source, _ in layers]
        raise RenderError([p if not sources or p.startswith(tuple(sources)) else f"{sources[-1]}: {p}"
                           for p in exc.problems]) from None
    return env, compute_names(rules, env, env_name)


def options(env: Environment) -> list[Option]:
    """Every alternative to the environment's own choice of the settings the what-if compares."""
    found: list[Option] = []
    network = env.network
    for nat in ("per_az", "single", "none"):
        if nat == network.nat:
            continue
        settings: dict[str, Any] = {"nat": nat}
        label = f"network.nat: {nat}"
        if nat == "none":  # the endpoints the renderer requires without NAT (infra/endpoints.py)
            needed = set(network.interface_endpoints) | set(needed_without_nat(env))
            settings["interface_endpoints"] = [s for s in allowed_services() if s in needed]
            added = len(needed) - len(network.interface_endpoints)
            label += f", +{added} interface endpoints" if added else ""
        found.append(Option("nat", label, {"network": settings}))
    for arch in ("X86_64", "ARM64"):
        if arch != env.ecs.cpu_architecture:
            found.append(Option("arch", f"ecs.cpu_architecture: {arch}", {"ecs": {"cpu_architecture": arch}}))
    for weight, base, label in SPOT_CHOICES:
        settings = {"fargate_spot_weight": weight} if base is None else {"fargate_spot_weight": weight,
                                                                          "fargate_base": base}
        if any(getattr(env.ecs, key) != value for key, value in settings.items()):
            shown = ", ".join(f"{key}: {value}" for key, value in settings.items())
            found.append(Option("spot", f"ecs.{shown} ({label})", {"ecs": settings}))
    if env.working_hours is None:
        hours = f"{OFFICE_HOURS['days'][0]}-{OFFICE_HOURS['days'][-1]} {OFFICE_HOURS['start']}-{OFFICE_HOURS['end']}"
        week = WorkingHours.model_validate(OFFICE_HOURS).awake_hours_per_week()
        settings: dict[str, Any] = {"working_hours": OFFICE_HOURS}
        label = f"working_hours: {hours} ({week:g} h a week)"
        # A job must run while the database is awake (infra/sleep.py refuses one that cannot):
        # the option moves each to an hour before the night, as dev's env.yaml does.
        jobs = [job.model_dump() for job in env.batch.jobs]
        if any(job["enabled"] for job in jobs):
            settings["batch"] = {"jobs": [{**job, "schedule": OFFICE_JOB_SCHEDULE, "timezone": OFFICE_HOURS["timezone"]}
                                          if job["enabled"] else job for job in jobs]}
            label += f", jobs at {OFFICE_JOB_TIME}"
        found.append(Option("sleep", label, settings))
    else:
        found.append(Option("sleep", "working_hours: null (awake around the clock)", {"working_hours": None}))
    return found


def merge_settings(*parts: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            both = isinstance(value, dict) and isinstance(merged.get(key), dict)
            merged[key] = merge_settings(merged[key], value) if both else value
    return merged


def total(lines: list[Line]) -> float:
    return sum(line.usd for line in lines)


def what_if(envs_dir: Path, rules: Rules, env_name: str, table: PriceTable, layers: Layers = ()) -> WhatIf:
    """The environment's estimate, then each option's, and where endpoints and NAT break even."""
    env, names = load_variant(envs_dir, rules, env_name, layers)
    rows = [Row(None, total(estimate(env_name, env, names, table)))]
    priced: dict[str, tuple[Environment, EnvNames]] = {env.network.nat: (env, names)}
    for option in options(env):
        try:
            variant, variant_names = load_variant(envs_dir, rules, env_name,
                                                  (*layers, (f"what-if {option.label}", option.settings)))
        except RenderError as exc:
            rows.append(Row(option, None, exc.problems[0]))
            continue
        rows.append(Row(option, total(estimate(env_name, variant, variant_names, table))))
        if option.group == "nat":
            priced[variant.network.nat] = (variant, variant_names)
    savings = cheapest_per_group(rows)
    if len(savings) > 1:
        combined = Option("all", "all the savings above together",
                          merge_settings(*(row.option.settings for row in savings if row.option)))
        try:
            variant, variant_names = load_variant(envs_dir, rules, env_name,
                                                  (*layers, ("what-if: all the savings together", combined.settings)))
            rows.append(Row(combined, total(estimate(env_name, variant, variant_names, table))))
        except RenderError as exc:
            rows.append(Row(combined, None, exc.problems[0]))
    return WhatIf(env_name, env, rows, breakeven_sentences(env_name, priced, table))


def cheapest_per_group(rows: list[Row]) -> list[Row]:
    """Of each group, the option that saves most against the current estimate, if any saves."""
    base = rows[0].total or 0.0
    best: dict[str, Row] = {}
    for row in rows[1:]:
        if row.option and row.total is not None and row.total < base - 0.005:
            if row.option.group not in best or row.total < (best[row.option.group].total or 0.0):
                best[row.option.group] = row
    return list(best.values())


def breakeven(nat: tuple[float, float], endpoints: tuple[float, float]) -> tuple[str, float | None]:
    """Where interface endpoints cost less than NAT, from each choice's monthly total at 0 and 1 GB
    of traffic (both are affine in it): ("always" | "never", None), or ("above" | "below", GB a month)."""
    extra = endpoints[0] - nat[0]  # what the endpoints cost beyond NAT with no traffic
    per_gb = (endpoints[1] - endpoints[0]) - (nat[1] - nat[0])  # and for each GB
    if extra <= 0 and per_gb <= 0:
        return "always", None
    if extra >= 0 and per_gb >= 0:
        return "never", None
    return ("above" if extra > 0 else "below"), -extra / per_gb


def breakeven_sentences(env_name: str, priced: dict[str, tuple[Environment, EnvNames]],
                        table: PriceTable) -> list[str]:
    if "none" not in priced:
        return []

    def totals(choice: str) -> tuple[float, float]:
        env, names = priced[choice]
        at = [total(estimate(env_name, env, names, with_assumption(table, TRAFFIC, gb, env_name))) for gb in (0, 1)]
        return at[0], at[1]

    sentences = []
    endpoints = totals("none")
    assumed = f"(assumed: {table.assumption(TRAFFIC, env_name):g} GB a month)"
    for choice in ("single", "per_az"):
        if choice not in priced:
            continue
        side, gb = breakeven(totals(choice), endpoints)
        what = f"nat none (interface endpoints) vs nat {choice}"
        if gb is None:
            sentences.append(f"{what}: the endpoints cost {'less' if side == 'always' else 'more'} at any traffic")
        else:
            sentences.append(f"{what}: the endpoints cost less {side} {gb:,.0f} GB a month of traffic to AWS "
                             f"services {assumed}")
    return sentences


# ---- --with KEY=VALUE: any setting of the YAML, for one run ----------------------------------


def parse_with(items: list[str], envs: list[str]) -> dict[str, Layers]:
    """[ENV.]KEY.PATH=YAML over env.yaml, for every environment or ENV's: env -> layers."""
    layers: dict[str, Layers] = {env: () for env in envs}
    for item in items:
        target, sep, raw = item.partition("=")
        keys = target.split(".")
        chosen = envs
        if keys[0] in envs:
            chosen, keys = [keys[0]], keys[1:]
        try:
            value = yaml.safe_load(raw) if sep else None
        except yaml.YAMLError as exc:
            raise RenderError(f"--with {item}: the value is not YAML ({str(exc).splitlines()[0]})") from None
        if not sep or not all(keys):
            raise RenderError(f"--with {item}: expected [ENV.]KEY.PATH=VALUE (a setting of envs/common.yaml, "
                              f"its value in YAML) with ENV one of {', '.join(envs)}")
        partial: Any = value
        for key in reversed(keys):
            partial = {key: partial}
        for env in chosen:
            layers[env] = (*layers[env], (f"--with {item}", partial))
    return layers


# ---- Output -----------------------------------------------------------------------------------


def _money(usd: float) -> str:
    return f"{usd:,.2f}"


def table_rows(result: WhatIf) -> list[list[str]]:
    rows = [["option", "monthly, USD", "vs current"]]
    for row in result.rows:
        label = "current YAML" if row.option is None else row.option.label
        if row.total is None:
            rows.append([label, "refused", row.problem])
        elif row.option is None:
            rows.append([label, _money(row.total), ""])
        else:
            rows.append([label, _money(row.total), f"{row.total - result.base:+,.2f}"])
    return rows


def describe_current(env: Environment) -> str:
    hours = env.working_hours
    awake = "awake around the clock" if hours is None else (
        f"awake {hours.awake_hours_per_week():g} of 168 h a week")
    return (f"nat {env.network.nat}, {env.ecs.cpu_architecture}, fargate_spot_weight {env.ecs.fargate_spot_weight} "
            f"with fargate_base {env.ecs.fargate_base}, {awake}")


def format_text(results: list[WhatIf], table: PriceTable) -> str:
    out = []
    for result in results:
        rows = table_rows(result)
        widths = [max(len(row[i]) for row in rows if row[1] != "refused" or i < 2) for i in range(3)]
        out.append(f"{result.env}: {describe_current(result.current)}")
        for index, row in enumerate(rows):
            cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2] if row[1] == "refused"
                     else row[2].rjust(widths[2])]
            out.append("  ".join(cells).rstrip())
            if index == 0:
                out.append("  ".join("-" * w for w in widths))
        out += [f"  {sentence}" for sentence in result.breakeven]
        out.append("")
    return "\n".join(out) + "\n" + prices_footer(table) + "\n"


def format_markdown(results: list[WhatIf], table: PriceTable) -> str:
    out = []
    for result in results:
        rows = table_rows(result)
        out += [f"**{result.env}** ({describe_current(result.current)})", "",
                "| " + " | ".join(rows[0]) + " |", "| --- | ---: | ---: |"]
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows[1:]]
        out += [""] + [f"- {sentence}" for sentence in result.breakeven] + ([""] if result.breakeven else [])
    out.append(f"Prices the options move ({table.path}, {table.region}, as of {table.date}; USD):")
    out.append("")
    out += [f"- `{key}`: {_figure(table.prices[key])}; {table.sources.get(key, 'no source recorded')}"
            for key in OPTION_PRICES if key in table.prices]
    return "\n".join(out) + "\n"


def _figure(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key} {_figure(item)}" for key, item in value.items())
    return f"{value:g}"


def prices_footer(table: PriceTable) -> str:
    lines = [f"Prices the options move ({table.path}, {table.region}, as of {table.date}; USD):"]
    for key in (k for k in OPTION_PRICES if k in table.prices):
        lines += [f"  {key}: {_figure(table.prices[key])}", f"      {table.sources.get(key, 'no source recorded')}"]
    return "\n".join(lines)
