"""`migrate`, serialised across processes with a PostgreSQL advisory lock.

Each deploy runs migrations as a one-off task; two deploys (or a retry) can overlap, and two
unserialised migrate runs race on the same DDL. This command shadows Django's because the
`todo` app comes before django.contrib.* in INSTALLED_APPS (the first app wins). The lock is
held on a connection of its own, so nothing Django does to its connection during migrate
(closing, reconnecting) can drop it; it is released when that connection ends, even on a crash.
"""

from __future__ import annotations

import logging
import time

from django.core.management.commands import migrate
from django.db import connections

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
            try:
                return super().handle(*args, **options)
            finally:
                with lock_connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_ID])
        finally:
            lock_connection.close()
