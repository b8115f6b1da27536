#!/usr/bin/env python3
"""Restore drill: prove that an environment's database can be restored, and how long it takes.

    python tools/restore_drill.py ENV [--point-in-time 2026-12-01T03:00:00+09:00]

Restores the environment's latest recovery point (the newest available RDS snapshot of its
database: automated, manual or taken by AWS Backup), or the database as it was at a point in time,
into a new instance named by the naming rule (purpose "drill", infra/recovery.py), waits until it
is available, checks it, reports how long each step took, and deletes the restored instance,
also when a step fails. The check: django_migrations holds, for every app of this checkout, the
latest migration the release expects (run the drill from the deployed commit), and the tables
hold rows. The permissions it needs in a real account: docs/recovery.md, "Restore drill".

Exit status: 0 restored and checked; 1 the restore or the check failed; 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.errors import RenderError  # noqa: E402

DRILL_TAG = {"Key": "Purpose", "Value": "restore-drill"}
# The tables whose rows are counted: the migration history must not be empty; the app's own
# table must be readable (an empty TODO list is a valid state, a missing table is not).
TABLES = ("django_migrations", "todo_todo")


class DrillError(Exception):
    """A step of the drill failed: one line saying which and why."""


# ---- What the release expects -----------------------------------------------------------------


def expected_migrations(app_dir: Path) -> dict[str, str]:
    """app label -> the latest migration of this checkout (migrations are numbered 0001_, 0002_...)."""
    expected = {}
    for folder in sorted(app_dir.glob("*/migrations")):
        names = sorted(p.stem for p in folder.glob("[0-9][0-9][0-9][0-9]_*.py"))
        if names:
            expected[folder.parent.name] = names[-1]
    return expected


# ---- The SQL check, behind an interface -------------------------------------------------------


class Database(Protocol):
    """A connection to the restored database that answers one query with rows of strings."""

    def rows(self, sql: str) -> list[list[str]]: ...


@dataclass(frozen=True)
class Psql:
    """Queries through psql (the PostgreSQL client), with the password in its environment only."""

    host: str
    port: int
    dbname: str
    user: str
    password: str | None = None
    sslmode: str = "require"

    def rows(self, sql: str) -> list[list[str]]:
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10", "PGSSLMODE": self.sslmode}
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        args = ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-h", self.host, "-p", str(self.port),
                "-U", self.user, "-d", self.dbname, "-c", sql]
        try:
            done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DrillError(f"psql: {exc}") from None
        if done.returncode:
            # The first line says what went wrong (the lines after it point into the statement).
            raise DrillError(f"psql: {done.stderr.strip().splitlines()[0] if done.stderr.strip() else 'failed'}")
        return [line.split("\t") for line in done.stdout.splitlines() if line]


@dataclass
class CheckResult:
    migrations: dict[str, str]  # app -> latest applied migration
    counts: dict[str, int]
    problems: list[str] = field(default_factory=list)


def check_database(db: Database, expected: dict[str, str], tables: tuple[str, ...] = TABLES) -> CheckResult:
    """The restored database is at the release's migrations and its tables hold rows."""
    latest = {app: name for app, name in db.rows(
        "SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")}
    counts = {}
    for table in tables:
        # Table names come from this file only, never from input.
        (row,) = db.rows(f'SELECT count(*) FROM "{table}"')
        counts[table] = int(row[0])
    result = CheckResult(latest, counts)
    for app, name in sorted(expected.items()):
        if latest.get(app) != name:
            result.problems.append(f"{app}: the restored database is at {latest.get(app) or 'no migration'}, "
                                   f"the release expects {name}")
    if counts.get("django_migrations", 0) == 0:
        result.problems.append("django_migrations is empty: this is not a migrated database")
    return result


# ---- The drill --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    env: str
    region: str
    account_id: str
    source: str  # the environment's DB instance identifier
    drill: str  # the restored instance's identifier
    db_name: str
    username: str


def target_of(env_name: str) -> Target:
    from infra.recovery import drill_instance_name
    from infra.render import Project, load

    rules, env, names = load(Project(ROOT), env_name)
    return Target(env_name, env.region, env.account_id, names.by_module["rds"]["instance"],
                  drill_instance_name(rules, env, env_name), env.rds.db_name, env.rds.username)


def parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise DrillError(f"--point-in-time {value!r}: not an ISO 8601 time (2026-12-01T03:00:00+09:00)") from None
    if moment.tzinfo is None:
        raise DrillError(f"--point-in-time {value!r}: give the time zone (+09:00, Z): RDS restores to UTC")
    return moment


def latest_snapshot(rds: Any, instance: str) -> dict[str, Any]:
    snapshots = []
    for kind in ("automated", "manual", "awsbackup"):
        pages = rds.get_paginator("describe_db_snapshots").paginate(DBInstanceIdentifier=instance, SnapshotType=kind)
        snapshots += [s for page in pages for s in page["DBSnapshots"] if s.get("Status") == "available"]
    if not snapshots:
        raise DrillError(f"{instance}: no available snapshot to restore (automated, manual or AWS Backup)")
    return max(snapshots, key=lambda s: s["SnapshotCreateTime"])


def restore_arguments(source: dict[str, Any], target: Target) -> dict[str, Any]:
    """Where the restored instance lives: the source's network, class and parameters; never public,
    single-AZ, no deletion protection (the drill deletes it), its own managed master password."""
    arguments = {
        "DBInstanceClass": source["DBInstanceClass"],
        "DBSubnetGroupName": source["DBSubnetGroup"]["DBSubnetGroupName"],
        "VpcSecurityGroupIds": [g["VpcSecurityGroupId"] for g in source.get("VpcSecurityGroups", [])],
        "PubliclyAccessible": False,
        "MultiAZ": False,
        "DeletionProtection": False,
        "CopyTagsToSnapshot": False,
        "Tags": [DRILL_TAG, {"Key": "Env", "Value": target.env}],
        "ManageMasterUserPassword": True,
    }
    if source.get("DBParameterGroups"):
        arguments["DBParameterGroupName"] = source["DBParameterGroups"][0]["DBParameterGroupName"]
    if source.get("MasterUserSecret", {}).get("KmsKeyId"):
        arguments["MasterUserSecretKmsKeyId"] = source["MasterUserSecret"]["KmsKeyId"]
    return arguments


def master_password(secrets: Any, instance: dict[str, Any]) -> str | None:
    arn = instance.get("MasterUserSecret", {}).get("SecretArn")
    if not arn:
        return None
    return json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])["password"]


Connect = Callable[[dict[str, Any], Target], Database]


def connect_with_psql(secrets: Any) -> Connect:
    def connect(instance: dict[str, Any], target: Target) -> Database:
        endpoint = instance["Endpoint"]
        return Psql(endpoint["Address"], int(endpoint["Port"]), target.db_name, target.username,
                    master_password(secrets, instance), sslmode="verify-full" if os.environ.get("PGSSLROOTCERT")
                    else "require")
    return connect


@dataclass
class Report:
    target: Target
    restored_from: str = ""
    steps: dict[str, float] = field(default_factory=dict)  # step -> seconds
    check: CheckResult | None = None
    created: bool = False
    deleted: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.check is not None and not self.check.problems and self.deleted

    def lines(self) -> list[str]:
        t = self.target
        out = [f"restore drill of {t.env}: {t.source} -> {t.drill} ({t.region})",
               f"  restored from: {self.restored_from or '-'}"]
        out += [f"  {step}: {seconds:.0f} s" for step, seconds in self.steps.items()]
        if self.check:
            out.append("  migrations: " + ", ".join(f"{a}.{n}" for a, n in sorted(self.check.migrations.items())))
            out.append("  rows: " + ", ".join(f"{table} {count}" for table, count in self.check.counts.items()))
            out += [f"  problem: {p}" for p in self.check.problems]
        if not self.created:
            out.append("  restored instance: none was created")
        else:
            deleted = "yes" if self.deleted else f"NO: delete {t.drill} by hand"
            out.append(f"  restored instance deleted: {deleted}")
        if self.error:
            out.append(f"  failed: {self.error}")
        out.append(f"result: {'passed' if self.ok else 'FAILED'} in {sum(self.steps.values()):.0f} s")
        return out


def run_drill(target: Target, rds: Any, connect: Connect, expected: dict[str, str],
              point_in_time: datetime | None = None, delay: int = 30) -> Report:
    report = Report(target)
    started = time.monotonic()

    def lap(step: str) -> None:
        nonlocal started
        now = time.monotonic()
        report.steps[step] = now - started
        started = now

    waiter_config = {"Delay": delay, "MaxAttempts": max(1, 4 * 3600 // max(delay, 1))}
    try:
        (source,) = rds.describe_db_instances(DBInstanceIdentifier=target.source)["DBInstances"]
        arguments = restore_arguments(source, target)
        if point_in_time:
            report.restored_from = f"{target.source} at {point_in_time.isoformat()}"
            rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier=target.source,
                                                     TargetDBInstanceIdentifier=target.drill,
                                                     RestoreTime=point_in_time, **arguments)
        else:
            snapshot = latest_snapshot(rds, target.source)
            report.restored_from = f"{snapshot['DBSnapshotIdentifier']} ({snapshot['SnapshotCreateTime']})"
            rds.restore_db_instance_from_db_snapshot(DBSnapshotIdentifier=snapshot["DBSnapshotIdentifier"],
                                                     DBInstanceIdentifier=target.drill, **arguments)
        report.created = True
        rds.get_waiter("db_instance_available").wait(DBInstanceIdentifier=target.drill, WaiterConfig=waiter_config)
        lap("restore until available")
        (restored,) = rds.describe_db_instances(DBInstanceIdentifier=target.drill)["DBInstances"]
        report.check = check_database(connect(restored, target), expected)
        lap("check")
    except DrillError as exc:
        report.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - any AWS or waiter error is a failed drill, reported, then cleaned up
        report.error = f"{type(exc).__name__}: {exc}"
    finally:
        if report.created:
            report.deleted = delete(rds, target.drill, waiter_config, report)
            lap("delete")
    return report


def delete(rds: Any, instance: str, waiter_config: dict[str, int], report: Report) -> bool:
    try:
        rds.delete_db_instance(DBInstanceIdentifier=instance, SkipFinalSnapshot=True, DeleteAutomatedBackups=True)
        rds.get_waiter("db_instance_deleted").wait(DBInstanceIdentifier=instance, WaiterConfig=waiter_config)
    except Exception as exc:  # noqa: BLE001 - reported: the person must delete it by hand
        report.error = report.error or f"deleting {instance}: {type(exc).__name__}: {exc}"
        return False
    return True


# ---- Command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("env", help="the environment (dev, stg, prod)")
    parser.add_argument("--point-in-time", metavar="ISO", help="restore the database as it was at this time")
    parser.add_argument("--poll-seconds", type=int, default=30, help="seconds between status checks")
    args = parser.parse_args(argv)
    try:
        target = target_of(args.env)
        moment = parse_time(args.point_in_time) if args.point_in_time else None
    except RenderError as exc:
        print("\n".join(f"error: {p}" for p in exc.problems), file=sys.stderr)
        return 2
    except DrillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import boto3

    session = boto3.Session(region_name=target.region)
    account = session.client("sts").get_caller_identity()["Account"]
    if account != target.account_id:
        print(f"error: the credentials are for account {account}; envs/{target.env}/env.yaml: account_id is "
              f"{target.account_id}", file=sys.stderr)
        return 2
    report = run_drill(target, session.client("rds"), connect_with_psql(session.client("secretsmanager")),
                       expected_migrations(ROOT / "app"), moment, args.poll_seconds)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
