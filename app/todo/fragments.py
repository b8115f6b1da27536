"""The list page, cached whole: rendering it was most of the page's CPU.

One entry per user, release, filter and page, and nothing else: a query string of the
client's own (`/?z=<random>`) names no new entry, so a user cannot fill the cache and evict
sessions or login counters; a user's entries are bounded by the pages their TODOs fill, each
page by 20 rows of bounded size (todo.models.NOTES_MAX_LENGTH). The release (settings.RELEASE_ID)
keeps two releases' markup apart while both serve during a rollout.

An entry is never served out of date: it is stored with a validator, a digest of everything
else it depends on: the CSRF secret its forms carry, and the user's version token
(todo/versions.py), which every write to the user (their name is in the header) or to their
TODOs replaces once it commits. The counts that pagination needs are cached under the same
token, so a page served from the cache costs no query at all; a write makes the next read count
and render again, in place. A page that carries flash messages (they show once) is never kept.

With the cache unreachable every page is simply rendered (config/cache.py reads as a miss).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.middleware.csrf import get_token

TTL_SECONDS = 300


@dataclass(frozen=True)
class Counts:
    total: int
    open: int

    def count(self, done: bool | None) -> int:
        """How many TODOs a filter shows: done=None all, False open, True done."""
        if done is None:
            return self.total
        return self.total - self.open if done else self.open


def count(todos: QuerySet) -> Counts:
    stats = todos.aggregate(total=Count("pk"), open=Count("pk", filter=Q(done=False)))
    return Counts(stats["total"], stats["open"])


def stats_key(user_pk: int) -> str:
    return f"todo-counts:{user_pk}"


def key(user_pk: int, status: str, page: int) -> str:
    """The entry of a page: `status` one of the list's filters, `page` a page that exists."""
    return f"todo-rows:{settings.RELEASE_ID}:{user_pk}:{status}:{page}"


def validator(request, token: str | None) -> str | None:
    """None (cache nothing) without a version token: the cache is unreachable."""
    if token is None:
        return None
    get_token(request)  # the CSRF secret the fragment's forms carry, set now if new
    return hashlib.sha256(f"{request.META['CSRF_COOKIE']}\x00{token}".encode()).hexdigest()


def page_number(raw: str | None, count: int, per_page: int) -> int:
    """The page to show for ?page=`raw`: past the last page (its last row just toggled into
    another filter or deleted) is the last page, anything not a page number the first."""
    last = max(1, -(-count // per_page))
    if raw == "last":
        return last
    try:
        number = int(raw or 1)
    except ValueError:
        return 1
    return min(max(number, 1), last)


class KnownCountPaginator(Paginator):
    """A paginator told its count (from the cached counts): no COUNT query of its own."""

    def __init__(self, *args, count: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.__dict__["count"] = count  # Paginator.count is a cached_property
