"""One version token per user, replaced on every write to the user or their TODOs.

What is cached for a user (their user row, their TODO counts, the list page's rows) is stored
with the token current when it was read from the database, and served only while the token is
still current. A read therefore costs cache lookups, no query, and no write can be missed as
long as it goes through the ORM's save() or delete(), queryset deletes included (their
post_delete signals fire per row; see todo/models.py). `bump()` is for the writes that send
no signal (QuerySet.update(), bulk_create()).

The token is deleted after the write commits, so a read racing the write either sees the old
rows under the old token, or stores what it read under a token nobody asks for any more (and
also at once, for reads inside the writing transaction). A
delete the cache drops while unreachable is replayed first when it answers again
(config/cache.py); with the cache down nothing is cached and every page is read fresh.
TTL_SECONDS bounds what no delete reached (a process stopped during an outage, a failover that
lost the last writes).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

TTL_SECONDS = 300


def _key(user_pk: int) -> str:
    return f"user-version:{user_pk}"


def current(user_pk: int, *, known: str | None = None) -> str | None:
    """The user's token (`known`, if just read), made now if there is none; None while the
    cache is unreachable."""
    if known is not None:
        return known
    key = _key(user_pk)
    token = cache.get(key)
    if token is None:
        token = uuid.uuid4().hex
        # add(), not set(): of two requests making one at once, both end up with the winner's.
        if not cache.add(key, token, TTL_SECONDS):
            token = cache.get(key)
    return token


def bump(user_pks: Iterable[int]) -> None:
    """Everything cached for these users is out of date once the current transaction commits."""
    keys = [_key(pk) for pk in set(user_pks)]
    if keys:
        # Now, for reads inside this transaction; again once it commits, for a read that ran
        # between the two on another connection and stored rows older than the commit.
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys), robust=True)


def cached(key: str, user_pk: int, load) -> tuple[object, str | None]:
    """`load()`, from the cache while the user's token is unchanged since it was stored; and
    the token (None: the cache is unreachable)."""
    # One round trip: the entry carries the token it was stored under.
    found = cache.get_many([_key(user_pk), key])
    token = current(user_pk, known=found.get(_key(user_pk)))
    if token is None:
        return load(), None
    entry = found.get(key)
    if isinstance(entry, tuple) and len(entry) == 2 and entry[0] == token:
        return entry[1], token
    value = load()
    if value is not None:
        cache.set(key, (token, value), TTL_SECONDS)
    return value, token
