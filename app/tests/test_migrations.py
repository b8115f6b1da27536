"""Migrations run while the previous release serves traffic, and a rollback keeps the new schema.

So every migration must work with the code before it (expand, then contract; docs/operations.md,
"Migrations"), which django-migration-linter checks here, in every `make test-app` and thus in
the pipeline's Test stage. And the `migrate` command gives up on a table it cannot lock in time
instead of stalling every query queued behind its ALTER.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django_migration_linter.management.commands.lintmigrations import Command as LintCommand

from tests.helpers import APP_DIR, PYTHON, postgres_url, require, scratch_postgres_database

# The project's own migrations; Django's and third-party apps' are their authors' business.
LINTED_APPS = ["todo"]
# Migrations the linter flags that were already applied everywhere, each with the reason it is
# safe: none so far. An entry here is a decision, never a way to make a new migration pass.
IGNORED_MIGRATIONS: list[str] = []
# SQLite (the Test stage's database) rebuilds a table for nearly every AlterField, which the
# linter's SQLite analyser reads as "NOT NULL constraint on columns" whatever the change; the
# PostgreSQL analyser, used whenever the tests run on PostgreSQL, checks NOT NULL for real.
SQLITE_EXCLUDED_CHECKS = ["NOT_NULL"]


def lint() -> tuple[int, str]:
    """django-migration-linter over LINTED_APPS, warnings counted as errors: (status, output)."""
    args = ["--no-cache", "--include-apps", *LINTED_APPS, "--warnings-as-errors"]
    # The analyser follows the database the SQL is generated for (config.db is PostgreSQL's).
    args += ["--sql-analyser", connection.vendor]
    if connection.vendor == "sqlite":
        args += ["--exclude-migration-tests", *SQLITE_EXCLUDED_CHECKS]
    if IGNORED_MIGRATIONS:
        args += ["--ignore-name", *IGNORED_MIGRATIONS]
    out = io.StringIO()
    try:
        # The command object itself: the linter need not be an installed app of the image.
        # It prints its report (print(), not the command's stdout).
        with contextlib.redirect_stdout(out):
            call_command(LintCommand(), *args, verbosity=1)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db(transaction=True)  # SQLite: no schema editor in a transaction
def test_every_migration_works_with_the_code_before_it():
    status, output = lint()
    assert status == 0, output
    assert "(todo, 0001_initial)... OK" in output


@pytest.mark.django_db(transaction=True)  # SQLite: no schema editor in a transaction
@override_settings(MIGRATION_MODULES={"todo": "tests.incompatible_migrations"})
def test_the_linter_refuses_a_migration_that_drops_a_column():
    status, output = lint()
    assert status == 1, output
    assert "(todo, 0002_drop_notes)... ERR" in output
    assert "DROPPING columns" in output


# ---- lock_timeout ----

LOCK_TIMEOUT = 3  # seconds, MIGRATION_LOCK_TIMEOUT for the migration under test
_WAITING_ALTER = """
    SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE c.relname = 'todo_todo' AND l.mode = 'AccessExclusiveLock' AND NOT l.granted
"""


def _migrate(url: str, *target: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "MIGRATION_LOCK_TIMEOUT": str(LOCK_TIMEOUT)}
    return subprocess.Popen(
        [PYTHON, "manage.py", "migrate", "--no-input", *target],
        cwd=APP_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


@pytest.mark.slow
def test_an_alter_on_a_busy_table_gives_up_instead_of_stalling_queries():
    import psycopg

    require(postgres_url() is not None, "DATABASE_URL does not point at PostgreSQL")
    with scratch_postgres_database("todo_locktimeout") as url:
        first = _migrate(url, "todo", "0001")
        assert first.wait(120) == 0, first.stdout.read()

        # A long transaction that read the table (a report, a stuck request): its ACCESS SHARE
        # lock stays until it ends, and the ALTER of 0002 needs ACCESS EXCLUSIVE.
        with psycopg.connect(url, connect_timeout=5) as holder:
            holder.execute("SELECT count(*) FROM todo_todo")
            second = _migrate(url, "todo", "0002")
            with psycopg.connect(url, connect_timeout=5, autocommit=True) as watcher:
                deadline = time.monotonic() + 60
                while not watcher.execute(_WAITING_ALTER).fetchone():
                    assert second.poll() is None, second.stdout.read()
                    assert time.monotonic() < deadline, "the ALTER never waited for its lock"
                    time.sleep(0.05)
                # A request's query, queued behind the ALTER's lock request while it waits.
                # Bounded, so that without a lock_timeout it fails instead of hanging the test.
                started = time.monotonic()
                try:
                    watcher.execute("SET statement_timeout = '20s'")
                    watcher.execute("SELECT count(*) FROM todo_todo")
                finally:
                    blocked = time.monotonic() - started
            status = second.wait(60)
            output = second.stdout.read()
            holder.rollback()

        assert status != 0, output
        assert "lock timeout" in output, output
        assert blocked < LOCK_TIMEOUT + 2, f"a query waited {blocked:.1f} s behind the ALTER"
        # The migration's transaction rolled back whole: nothing half-applied, nothing recorded.
        with psycopg.connect(url, connect_timeout=5) as conn:
            constraints = conn.execute(
                "SELECT conname FROM pg_constraint WHERE conname = 'todo_notes_length'"
            ).fetchall()
            recorded = conn.execute(
                "SELECT name FROM django_migrations WHERE app = 'todo' ORDER BY name"
            ).fetchall()
        assert constraints == []
        assert recorded == [("0001_initial",)]

        # With the table free again, running the release again applies it.
        rerun = _migrate(url, "todo", "0002")
        assert rerun.wait(120) == 0, rerun.stdout.read()
