"""Two deploys' migration tasks can overlap: both must succeed and leave one correct schema."""

import os
import subprocess

import pytest

from tests.helpers import APP_DIR, PYTHON, postgres_url, require, scratch_postgres_database

pytestmark = pytest.mark.slow


@pytest.fixture
def fresh_database():
    require(postgres_url() is not None, "DATABASE_URL does not point at PostgreSQL")
    with scratch_postgres_database("todo_migrate") as url:
        yield url


def test_two_concurrent_migrates_both_succeed(fresh_database):
    import psycopg

    env = {**os.environ, "DATABASE_URL": fresh_database}
    procs = [
        subprocess.Popen(
            [PYTHON, "manage.py", "migrate", "--no-input"],
            cwd=APP_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=180)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], "\n----\n".join(outputs)
    # Both went through the advisory lock; exactly one of them applied the migrations.
    assert all("migration lock acquired" in out for out in outputs)
    assert sum("Applying todo.0001_initial... OK" in out for out in outputs) == 1

    with psycopg.connect(fresh_database, connect_timeout=5) as conn:
        applied = conn.execute(
            "SELECT app, name, count(*) FROM django_migrations GROUP BY app, name"
        ).fetchall()
        columns = {
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'todo_todo'"
            )
        }
    assert all(count == 1 for _app, _name, count in applied)
    assert ("todo", "0001_initial", 1) in applied
    assert {"auth", "sessions", "admin", "contenttypes"} <= {app for app, _n, _c in applied}
    assert columns == {"id", "owner_id", "title", "notes", "done", "created_at", "updated_at"}

    # And nothing is left to migrate.
    check = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--check"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr
