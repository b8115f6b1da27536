"""The recovery objectives each environment's settings give, from the same merged YAML that renders
its root: how much data a failure can lose (RPO) and how long the database is out (RTO).

The AWS figures (point-in-time lag, Multi-AZ failover time, restore speed) live in
cost/recovery.yaml, each with its source; this module only combines them with the settings, so a
setting that weakens recovery (no Multi-AZ, a shorter retention, no copy) changes what is printed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

from .config import Environment
from .errors import RenderError
from .loader import read_yaml
from .naming import Rules, build_name

FIGURES = ("pitr_lag_minutes", "pitr_max_days", "multi_az_failover_seconds_min", "multi_az_failover_seconds_max",
           "restore_create_minutes", "restore_minutes_per_gb", "pitr_replay_minutes", "switch_minutes")
CHECKED = ("seen", "assumption")


@dataclass(frozen=True)
class Figures:
    path: str  # as shown in messages
    values: dict[str, float]
    sources: dict[str, str]

    def __getitem__(self, key: str) -> float:
        return self.values[key]


def load_figures(path: Path, shown: str) -> Figures:
    """Read and check cost/recovery.yaml; every problem names the file and key."""
    data = read_yaml(path, shown)
    entries = data.get("figures")
    if not isinstance(entries, dict):
        raise RenderError(f"{shown}: figures: required mapping is missing")
    problems, values, sources = [], {}, {}
    for key in FIGURES:
        entry = entries.get(key)
        where = f"{shown}: figures.{key}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: required key is missing")
            continue
        value = entry.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            problems.append(f"{where}.value: must be a non-negative number (got {value!r})")
        if not str(entry.get("source", "")).startswith("https://docs.aws.amazon.com/"):
            problems.append(f"{where}.source: the AWS documentation page the figure comes from (https://docs.aws...)")
        if entry.get("checked") not in CHECKED:
            problems.append(f"{where}.checked: one of {', '.join(CHECKED)} (got {entry.get('checked')!r})")
        values[key], sources[key] = value, entry.get("source", "")
    for key in sorted(set(entries) - set(FIGURES)):
        problems.append(f"{shown}: figures.{key}: unknown figure (known: {', '.join(FIGURES)})")
    if problems:
        raise RenderError(problems)
    return Figures(shown, {k: float(v) for k, v in values.items()}, sources)


def backup_interval_hours(schedule: str) -> float:
    """Hours between two runs of an AWS Backup cron expression that runs every day.

    cron(minutes hours day-of-month month day-of-week year): the hours field may be one hour, a
    list ("0,12") or a step ("0/6", "*/6"); a schedule that skips days is refused, since the
    objectives would then depend on the weekday."""
    fields = schedule.removeprefix("cron(").removesuffix(")").split()
    if len(fields) != 6 or fields[2] not in ("*", "?") or fields[3] != "*" or fields[4] not in ("*", "?"):
        raise RenderError(f"backup.schedule: {schedule!r}: the recovery objectives need a schedule that runs "
                          "every day, e.g. cron(0 20 * * ? *)")
    hours = fields[1]
    if step := re.fullmatch(r"(\*|\d+)/(\d+)", hours):
        return float(step.group(2))
    if re.fullmatch(r"\d+(,\d+)*", hours):
        runs = sorted(int(h) for h in hours.split(","))
        gaps = [b - a for a, b in zip(runs, runs[1:], strict=False)] + [24 - runs[-1] + runs[0]]
        return float(max(gaps))
    raise RenderError(f"backup.schedule: {schedule!r}: hours field {hours!r} is not an hour, a list or a step")


@dataclass(frozen=True)
class Objectives:
    rows: dict[str, str]  # row label -> cell


def _minutes(value: float) -> str:
    return f"{value / 60:.1f} h" if value >= 120 else f"{value:.0f} min"


def objectives(env: Environment, figures: Figures) -> Objectives:
    rds, backup = env.rds, env.backup
    restore = figures["restore_create_minutes"] + rds.allocated_storage * figures["restore_minutes_per_gb"]
    pitr_restore = restore + figures["pitr_replay_minutes"] + figures["switch_minutes"]
    window = min(rds.backup_retention_days, int(figures["pitr_max_days"]))
    lag = figures["pitr_lag_minutes"]
    if rds.multi_az:
        instance_rpo = "0 (synchronous standby)"
        low, high = figures["multi_az_failover_seconds_min"], figures["multi_az_failover_seconds_max"]
        instance_rto = f"{low:.0f}-{high:.0f} s (failover)"
    else:
        instance_rpo = f"{lag:.0f} min (point-in-time restore)"
        instance_rto = f"{_minutes(pitr_restore)} (restore)"
    if backup.enabled:
        interval = backup_interval_hours(backup.schedule)
        snapshots = f"every {interval:g} h, kept {backup.retention_days} d"
        lock = backup.vault_lock.mode
    else:
        interval, snapshots, lock = 24.0, f"RDS daily, kept {rds.backup_retention_days} d", "-"
    if backup.enabled and backup.copy_region:
        region_rpo = f"{interval:g} h + copy time ({backup.copy_region})"
        region_rto = f"{_minutes(restore + figures['switch_minutes'])} + rebuilding the stack there"
    else:
        region_rpo = region_rto = "not recoverable (no copy_region)"
    kept = []
    if rds.final_snapshot:
        kept.append("final snapshot")
    if backup.keep_rds_backups_on_delete:
        kept.append(f"automated backups {rds.backup_retention_days} d")
    if backup.enabled and not env.force_destroy:
        kept.append("vault")
    pitr_owner = "AWS Backup" if backup.enabled and backup.continuous else "RDS"
    cache = env.elasticache.snapshot_retention_limit
    return Objectives({
        "Point-in-time restore window": f"{window} d ({pitr_owner})",
        "RPO, data error (point in time)": f"{lag:.0f} min",
        "RTO, data error (restore to a time)": _minutes(pitr_restore),
        "RPO, instance or zone failure": instance_rpo,
        "RTO, instance or zone failure": instance_rto,
        "RPO, region loss": region_rpo,
        "RTO, region loss": region_rto,
        "Snapshots": snapshots,
        "Vault lock": lock,
        "Kept when the environment is deleted": ", ".join(kept) or "nothing",
        "Cache snapshots (a cache: rebuilt on miss)": f"kept {cache} d" if cache else "none",
    })


def drill_instance_name(rules: Rules, env: Environment, env_name: str) -> str:
    """The restored instance of a drill: the database's name with purpose "drill" (naming.yaml)."""
    kind, layer, type_, _, service = rules.resources["rds"]["instance"]
    labels = {"system": env.system, "env": env_name, "layer": layer, "type": type_, "purpose": "drill",
              "service": service}
    return build_name(rules, kind, labels, env.account_id)


# ---- Output -----------------------------------------------------------------------------------


def table_rows(results: dict[str, Objectives]) -> list[list[str]]:
    envs = list(results)
    labels = list(next(iter(results.values())).rows)
    return [["recovery", *envs]] + [[label, *(results[e].rows[label] for e in envs)] for label in labels]


def format_text(results: dict[str, Objectives], figures: Figures) -> str:
    rows = table_rows(results)
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n" + footer(figures) + "\n"


def format_markdown(results: dict[str, Objectives], figures: Figures) -> str:
    rows = table_rows(results)
    out = ["| " + " | ".join(rows[0]) + " |", "| --- |" + " --- |" * (len(rows[0]) - 1)]
    out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    return "\n".join(out) + "\n\n" + footer(figures) + "\n"


def footer(figures: Figures) -> str:
    return (f"Figures and their AWS sources: {figures.path}; restore times are estimates until "
            "tools/restore_drill.py measures them in your account.")
