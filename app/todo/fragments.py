"""The list page's rows and pagination, cached: rendering them is most of the page's CPU.

A cached fragment is never out of date, because its key names everything it shows: the user,
the full path (filter, page, and the form's `next`), the CSRF secret its forms carry (as a
digest), and a fingerprint of the user's TODOs (how many, how many open, the last change)
read by the one aggregate query that pagination needs anyway. A create, edit, toggle or
delete changes the fingerprint, so nothing is ever invalidated by hand. A bulk update that
bypasses `updated_at` is the one write it cannot see: the TTL bounds that.

With the cache unreachable every page is simply rendered (config/cache.py reads as a miss).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.core.paginator import Paginator
from django.db.models import Count, Max, Q, QuerySet
from django.middleware.csrf import get_token

TTL_SECONDS = 300


@dataclass(frozen=True)
class Fingerprint:
    total: int
    open: int
    changed: datetime | None

    def count(self, done: bool | None) -> int:
        """How many TODOs a filter shows: done=None all, False open, True done."""
        if done is None:
            return self.total
        return self.total - self.open if done else self.open


def fingerprint(todos: QuerySet) -> Fingerprint:
    stats = todos.aggregate(
        total=Count("pk"), open=Count("pk", filter=Q(done=False)), changed=Max("updated_at")
    )
    return Fingerprint(stats["total"], stats["open"], stats["changed"])


def key(request, todos: Fingerprint) -> str:
    get_token(request)  # the CSRF secret the fragment's forms carry, set now if new
    parts = (
        str(request.user.pk),
        request.get_full_path(),
        request.META["CSRF_COOKIE"],
        f"{todos.total}:{todos.open}:{todos.changed.isoformat() if todos.changed else '-'}",
    )
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return f"todo-rows:{request.user.pk}:{digest}"


class KnownCountPaginator(Paginator):
    """A paginator told its count (from the fingerprint): no COUNT query of its own."""

    def __init__(self, *args, count: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__["count"] = count  # Paginator.count is a cached_property
