"""tools/restore_drill.py: the SQL check against a real PostgreSQL, and the whole drill against
moto's RDS (restore, wait, check, delete, also when a step fails)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import restore_drill  # noqa: E402
from restore_drill import DrillError, Psql, Target, check_database, expected_migrations, run_drill  # noqa: E402

DB = "bak_drill"  # this suite's own database on the shared local server
LOCAL = Psql("127.0.0.1", 5432, DB, "postgres", sslmode="disable")
EXPECTED = expected_migrations(ROOT / "app")


def psql(sql: str, dbname: str = "postgres") -> None:
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", dbname,
                    "-c", sql], check=True, capture_output=True)


@pytest.fixture(scope="module")
def restored_db():
    """A database as a restore of this release's would look: its migrations applied, a few rows."""
    try:
        psql(f"DROP DATABASE IF EXISTS {DB}")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no local PostgreSQL on 127.0.0.1:5432")
    psql(f"CREATE DATABASE {DB}")
    rows = ", ".join(f"('{app}', '{name}', now())" for app, name in EXPECTED.items())
    older = ", ".join(f"('{app}', '0001_initial', now())" for app in EXPECTED)
    psql("CREATE TABLE django_migrations (id serial PRIMARY KEY, app text, name text, applied timestamptz);"
         f"INSERT INTO django_migrations (app, name, applied) VALUES ('auth', '0012_alter_user_first_name_max_length',"
         f" now()), {older}, {rows};"
         "CREATE TABLE todo_todo (id serial PRIMARY KEY, title text);"
         "INSERT INTO todo_todo (title) VALUES ('a'), ('b'), ('c');", DB)
    yield LOCAL
    psql(f"DROP DATABASE IF EXISTS {DB}")


# ---- What the release expects, and the SQL check ----


def test_the_release_expects_the_latest_migration_of_each_app():
    assert EXPECTED["todo"] == sorted(p.stem for p in (ROOT / "app/todo/migrations").glob("0*.py"))[-1]
    assert EXPECTED["todo"] > "0001_initial"  # the check must see a second migration go missing


def test_a_database_at_the_release_passes(restored_db):
    result = check_database(restored_db, EXPECTED)
    assert result.problems == []
    assert result.migrations["todo"] == EXPECTED["todo"]
    assert result.counts == {"django_migrations": len(EXPECTED) * 2 + 1, "todo_todo": 3}


def test_a_database_behind_the_release_fails(restored_db):
    result = check_database(restored_db, {**EXPECTED, "todo": "9999_not_yet"})
    assert result.problems == [f"todo: the restored database is at {EXPECTED['todo']}, "
                               "the release expects 9999_not_yet"]


def test_a_missing_table_is_a_failed_check(restored_db):
    with pytest.raises(DrillError, match="psql: .*does not exist"):
        check_database(restored_db, EXPECTED, tables=("django_migrations", "missing_table"))


# ---- The drill, against moto's RDS ----

TARGET = Target("dev", "ap-northeast-1", "111111111111", "todo-dev-data-db-main-rds", "todo-dev-data-db-drill-rds",
                "todo", "todo")


class Recording:
    """The RDS client, with every call it makes remembered."""

    def __init__(self, client: Any) -> None:
        self.client, self.calls = client, []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        if name in ("get_waiter", "get_paginator", "exceptions"):
            return method

        def call(**kwargs: Any) -> Any:
            self.calls.append((name, kwargs))
            return method(**kwargs)
        return call


@pytest.fixture
def rds(monkeypatch):
    monkeypatch.setenv("MOTO_ACCOUNT_ID", TARGET.account_id)
    with mock_aws():
        ec2 = boto3.client("ec2", region_name=TARGET.region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{TARGET.region}{az}")
                   ["Subnet"]["SubnetId"] for n, az in ((1, "a"), (2, "c"))]
        group = ec2.create_security_group(GroupName="todo-dev-data-db-main-sg", Description="db", VpcId=vpc)["GroupId"]
        client = boto3.client("rds", region_name=TARGET.region)
        client.create_db_subnet_group(DBSubnetGroupName="todo-dev-data-db-main-subnetgrp", SubnetIds=subnets,
                                      DBSubnetGroupDescription="private")
        client.create_db_instance(DBSubnetGroupName="todo-dev-data-db-main-subnetgrp", VpcSecurityGroupIds=[group],
                                  DBInstanceIdentifier=TARGET.source, Engine="postgres", DBInstanceClass="db.t4g.micro",
                                  AllocatedStorage=20, MasterUsername="todo", MasterUserPassword="not-a-secret-1",
                                  DBName="todo", BackupRetentionPeriod=1)
        client.create_db_snapshot(DBInstanceIdentifier=TARGET.source, DBSnapshotIdentifier="todo-dev-nightly")
        yield Recording(client)


def local_database(instance: dict, target: Target) -> Psql:
    """moto's instance has no server behind it: the check runs on the local copy instead."""
    assert instance["DBInstanceIdentifier"] == target.drill
    return LOCAL


def gone(client: Any, name: str) -> bool:
    try:
        client.describe_db_instances(DBInstanceIdentifier=name)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "DBInstanceNotFound"
    return False


def test_the_drill_restores_the_latest_snapshot_checks_and_deletes(rds, restored_db):
    report = run_drill(TARGET, rds, local_database, EXPECTED, delay=1)
    assert report.ok, report.lines()
    (restore,) = [kw for name, kw in rds.calls if name == "restore_db_instance_from_db_snapshot"]
    assert restore["DBInstanceIdentifier"] == "todo-dev-data-db-drill-rds"
    assert restore["DBSnapshotIdentifier"] == "todo-dev-nightly"
    assert restore["PubliclyAccessible"] is False and restore["DeletionProtection"] is False
    # in the database's own private network
    assert restore["DBSubnetGroupName"] == "todo-dev-data-db-main-subnetgrp"
    (source,) = rds.client.describe_db_instances(DBInstanceIdentifier=TARGET.source)["DBInstances"]
    assert restore["VpcSecurityGroupIds"] == [g["VpcSecurityGroupId"] for g in source["VpcSecurityGroups"]]
    assert ("delete_db_instance", {"DBInstanceIdentifier": TARGET.drill, "SkipFinalSnapshot": True,
                                   "DeleteAutomatedBackups": True}) in rds.calls
    assert gone(rds.client, TARGET.drill)
    assert not gone(rds.client, TARGET.source)  # the environment's database is untouched
    text = "\n".join(report.lines())
    assert "restored from: todo-dev-nightly" in text
    assert f"todo.{EXPECTED['todo']}" in text and "todo_todo 3" in text
    assert "restored instance deleted: yes" in text and "result: passed in" in text
    assert set(report.steps) == {"restore until available", "check", "delete"}


def test_a_failed_check_still_deletes_the_restored_instance(rds):
    def unreachable(instance: dict, target: Target) -> Psql:
        raise DrillError("psql: could not connect")

    report = run_drill(TARGET, rds, unreachable, EXPECTED, delay=1)
    assert not report.ok
    assert report.error == "psql: could not connect"
    assert report.deleted and gone(rds.client, TARGET.drill)
    assert report.lines()[-1].startswith("result: FAILED")


def test_point_in_time_restores_the_instance_to_that_time(rds, restored_db):
    moment = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    report = run_drill(TARGET, rds, local_database, EXPECTED, point_in_time=moment, delay=1)
    (restore,) = [kw for name, kw in rds.calls if name == "restore_db_instance_to_point_in_time"]
    assert restore["SourceDBInstanceIdentifier"] == TARGET.source
    assert restore["TargetDBInstanceIdentifier"] == TARGET.drill
    assert restore["RestoreTime"] == moment
    assert report.ok, report.lines()
    assert gone(rds.client, TARGET.drill)


def test_no_snapshot_is_a_failed_drill_that_creates_nothing(rds):
    bare = "todo-dev-data-db-bare-rds"  # automated backups off, no snapshot
    rds.client.create_db_instance(DBInstanceIdentifier=bare, Engine="postgres", DBInstanceClass="db.t4g.micro",
                                  AllocatedStorage=20, MasterUsername="todo", MasterUserPassword="not-a-secret-1",
                                  DBSubnetGroupName="todo-dev-data-db-main-subnetgrp", BackupRetentionPeriod=0)
    # moto takes an automated snapshot of every new instance, even without backups: remove it.
    for snapshot in rds.client.describe_db_snapshots(DBInstanceIdentifier=bare)["DBSnapshots"]:
        rds.client.delete_db_snapshot(DBSnapshotIdentifier=snapshot["DBSnapshotIdentifier"])
    target = Target(**{**TARGET.__dict__, "source": bare})
    report = run_drill(target, rds, local_database, EXPECTED, delay=1)
    assert report.error == f"{bare}: no available snapshot to restore (automated, manual or AWS Backup)"
    assert not [name for name, _ in rds.calls if name.startswith("restore")]
    assert "  restored instance: none was created" in report.lines()


# ---- Command line ----


def test_the_drill_name_follows_the_naming_rule():
    assert restore_drill.target_of("dev") == TARGET
    assert restore_drill.target_of("prod").drill == "todo-prod-data-db-drill-rds"


@pytest.mark.parametrize(("argv", "message"), [
    (["qa"], "naming.yaml: labels.env: unknown environment 'qa'"),
    (["dev", "--point-in-time", "yesterday"], "--point-in-time 'yesterday': not an ISO 8601 time"),
    (["dev", "--point-in-time", "2026-12-01T03:00:00"], "give the time zone"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    assert restore_drill.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
