"""`migrate`, serialised across processes with a PostgreSQL advisory lock.

Each deploy runs migrations as a one-off task; two deploys (or a retry) can overlap, and two
unserialised migrate runs race on the same DDL. This command shadows Django's because the
`todo` app comes before django.contrib.* in INSTALLED_APPS (the first app wins). The lock is
held on a connection of its own, so nothing Django does to its connection during migrate
(closing, reconnecting) can drop it; it is released when that connection ends, even on a crash.

When the task connects as another user than DATABASE_URL's (the master user, whose credentials
come from DATABASE_CREDENTIALS_ARN), DATABASE_URL's user is the app's own role: the command
creates it and keeps its rights right (config/db/roles.py), then migrates *as* that role (SET
ROLE), so the app owns its tables and the master credentials stay with this task.

Every connection that migrates gets a `lock_timeout` and a `statement_timeout` (settings
MIGRATION_LOCK_TIMEOUT, MIGRATION_STATEMENT_TIMEOUT). An ALTER TABLE needs an ACCESS EXCLUSIVE
lock; while it waits for one (behind a long transaction on the table), every later query on
that table queues behind it, and the site stalls. With the timeout the ALTER gives up instead,
the migration's transaction rolls back, the command fails and so does the release, which a
rerun retries ("Explicit Locking" and "lock_timeout" in the PostgreSQL documentation).
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections
from django.db.backends.signals import connection_created

from config.db.roles import provision_app_role

logger = logging.getLogger(__name__)

# Any fixed 64-bit number, the same in every process of this project: the lock's name.
MIGRATION_LOCK_ID = 7_415_829_063_112_001


class Command(migrate.Command):
    help = migrate.Command.help + " Serialised with a PostgreSQL advisory lock."

    def handle(self, *args, **options):
        alias = options["database"]
        if connections[alias].vendor != "postgresql":
            # SQLite: one file, one local process at a time; nothing to coordinate.
            return super().handle(*args, **options)

        lock_connection = connections.create_connection(alias)
        try:
            started = time.monotonic()
            with lock_connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_ID])
            logger.info(
                "migration lock acquired",
                extra={"event": "migration_lock", "waited_s": round(time.monotonic() - started, 3)},
            )
            self._become_app_role(alias, lock_connection)
            limits = self._session_limits(alias, lock_connection)
            connection_created.connect(limits, weak=False)
            connections[alias].close()  # the next connection, and any reconnection, has them
            try:
                return super().handle(*args, **options)
            finally:
                connection_created.disconnect(limits)
                with lock_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])
        finally:
            lock_connection.close()

    @staticmethod
    def _session_limits(alias: str, lock_connection):
        """A connection_created receiver that sets the timeouts on each new connection of
        `alias` (Django may reconnect during migrate); never on the advisory lock's own
        connection, which waits for another deploy's migrate as long as that takes."""
        timeouts = {
            "lock_timeout": settings.MIGRATION_LOCK_TIMEOUT,
            "statement_timeout": settings.MIGRATION_STATEMENT_TIMEOUT,
        }

        def limit(sender, connection, **kwargs) -> None:
            if connection.alias != alias or connection is lock_connection:
                return
            with connection.cursor() as cursor:
                for name, seconds in timeouts.items():
                    # set_config(): the value is a bound parameter (SET cannot take one).
                    cursor.execute("SELECT set_config(%s, %s, false)", [name, f"{seconds}s"])
            logger.info(
                "migration session limits set", extra={"event": "migration_limits", **timeouts}
            )

        return limit

    @staticmethod
    def _become_app_role(alias: str, lock_connection) -> None:
        connection = connections[alias]
        app_role = connection.settings_dict["USER"]
        with lock_connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            (current,) = cursor.fetchone()
        if not app_role or app_role == current:
            return  # one user for everything (local runs, tests): nothing to hand over
        report = provision_app_role(lock_connection.connection, app_role)
        logger.info(
            "app database role provisioned",
            extra={"event": "app_role", "migrated_by": current, **report},
        )
        # Django runs SET ROLE on every (re)connection with this option.
        connection.close()
        connection.settings_dict["OPTIONS"]["assume_role"] = app_role
