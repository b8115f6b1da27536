"""Deletes completed TODOs not touched for N days; the scheduled batch task runs this.

Idempotent: it deletes by a condition, not a list, so a retry (the scheduler retries on
failure) removes whatever is still due and nothing else.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from todo.models import Todo

logger = logging.getLogger("todo.batch")


class Command(BaseCommand):
    help = "Delete done TODOs whose updated_at is older than --days days (default 30)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="age in days (default 30)")
        parser.add_argument(
            "--dry-run", action="store_true", help="count what would be deleted, delete nothing"
        )

    def handle(self, *args, days: int, dry_run: bool, **options):
        if days < 0:
            raise CommandError("--days must be 0 or more.")
        cutoff = timezone.now() - timedelta(days=days)
        due = Todo.objects.filter(done=True, updated_at__lt=cutoff)
        if dry_run:
            removed = due.count()
        else:
            # Only Todo rows: the count excludes nothing cascaded, since nothing refers to a Todo.
            removed, _by_model = due.delete()
        logger.info(
            "purged done todos",
            extra={
                "event": "purge_done_todos",
                "removed": removed,
                "days": days,
                "cutoff": cutoff.isoformat(),
                "dry_run": dry_run,
            },
        )
