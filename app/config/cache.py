"""A Redis cache that the site survives losing.

Django's RedisCache raises on an unreachable server, so every page that reads a session or the
login limiter would answer 500 while Redis is away. This one degrades instead: reads miss,
writes are dropped, and for RETRY_AFTER seconds after a failure nothing is sent to Redis at all,
so a dead node costs one timeout per interval rather than one per request. Sessions use the
cached_db engine: a miss reads the database, so people stay logged in.

A key whose write or delete was dropped may hold an outdated value when Redis answers again (a
session logged out during the outage would come back to life): such keys are remembered and
deleted first, before anything else is read. The list is per process and bounded; a process
that stops during an outage forgets its list, and those values live until they expire.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import redis
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)

# What an unreachable, restarting or failing-over server raises (BusyLoadingError is a
# ConnectionError; a demoted primary, or a replica promoted late, refuses writes with
# ReadOnlyError, and the connection is then closed: see _reconnect).
UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError, redis.ReadOnlyError)
MAX_STALE_KEYS = 10_000


class _Availability:
    """Shared by every thread's cache object for one server: Django makes one per thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down = False
        self.retry_at = 0.0
        self.stale: set[str] = set()
        self.overflowed = False

    def skipping(self) -> bool:
        return self.down and time.monotonic() < self.retry_at

    def failed(self, exc: Exception, retry_after: float, keys: Iterable[str]) -> None:
        with self.lock:
            if not self.down:
                logger.warning(
                    "cache unreachable; serving without it",
                    extra={"event": "cache_down", "error": repr(exc), "retry_s": retry_after},
                )
            self.down = True
            self.retry_at = time.monotonic() + retry_after
            self.remember(keys)

    def recovered(self) -> None:
        with self.lock:
            was_down, self.down = self.down, False
        if was_down:
            logger.warning("cache reachable again", extra={"event": "cache_up"})

    def remember(self, keys: Iterable[str]) -> None:
        for key in keys:
            if len(self.stale) >= MAX_STALE_KEYS:
                if not self.overflowed:
                    logger.error(
                        "too many dropped cache writes to remember; some may be served stale "
                        "until they expire",
                        extra={"event": "cache_stale_overflow", "limit": MAX_STALE_KEYS},
                    )
                self.overflowed = True
                return
            self.stale.add(key)


_availability: dict[str, _Availability] = {}
_availability_lock = threading.Lock()


def availability_of(location: str) -> _Availability:
    with _availability_lock:
        return _availability.setdefault(location, _Availability())


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django builds a new redis.Redis for every operation, and its constructor fills a table
    of some 170 response callbacks each time; the pool holds the connections, so one client
    per pool does the same work."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    """RedisCache whose operations fall back to "miss"/"dropped" while Redis is unreachable."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
        self.retry_after = float(params.get("RETRY_AFTER", 5))
        self.availability = availability_of(server if isinstance(server, str) else ",".join(server))

    def _guarded(self, call: Callable[[], Any], fallback: Callable[[], Any], keys=()) -> Any:
        availability = self.availability
        if availability.skipping():
            with availability.lock:
                availability.remember(keys)
            return fallback()
        try:
            if availability.stale:
                self._delete_stale()
            result = call()
        except UNAVAILABLE as exc:
            if isinstance(exc, redis.ReadOnlyError):
                self._reconnect(exc)
            availability.failed(exc, self.retry_after, keys)
            return fallback()
        if availability.down:
            availability.recovered()
        return result

    def _reconnect(self, exc: Exception) -> None:
        """The server has become a replica: after an ElastiCache failover the old primary is
        demoted, but a connection to it stays open (redis-py closes a connection on socket
        errors, not on a refused write), so every write would fail on it until the socket died,
        up to ElastiCache's 12-hour limit for IAM connections. Closing this cache's pools makes
        the next command connect anew, to whatever the primary endpoint names now."""
        for pool in self._cache._pools.values():
            pool.disconnect()
        logger.warning(
            "cache server refused a write as a replica; reconnecting to the primary endpoint",
            extra={"event": "cache_failover", "error": repr(exc)},
        )

    def _delete_stale(self) -> None:
        """Before anything is read again, delete what a dropped write may have left outdated."""
        availability = self.availability
        with availability.lock:
            stale = list(availability.stale)
        for start in range(0, len(stale), 500):
            self._cache.delete_many(stale[start : start + 500])
        with availability.lock:
            availability.stale.difference_update(stale)
            availability.overflowed = False
        logger.info(
            "outdated cache keys deleted",
            extra={"event": "cache_stale_deleted", "keys": len(stale)},
        )

    # ---- Django's cache API, each call guarded ----

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        return self._guarded(lambda: self._cache.add(key, value, timeout), lambda: False, [key])

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._guarded(lambda: self._cache.get(key, default), lambda: default)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        self._guarded(lambda: self._cache.set(key, value, timeout), lambda: None, [key])

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        key = self.make_and_validate_key(key, version=version)
        timeout = self.get_backend_timeout(timeout)
        return self._guarded(lambda: self._cache.touch(key, timeout), lambda: False, [key])

    def delete(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._guarded(lambda: self._cache.delete(key), lambda: False, [key])

    def get_many(self, keys, version=None):
        return self._guarded(lambda: super(ResilientRedisCache, self).get_many(keys, version), dict)

    def has_key(self, key, version=None):
        key = self.make_and_validate_key(key, version=version)
        return self._guarded(lambda: self._cache.has_key(key), lambda: False)

    def incr(self, key, delta=1, version=None):
        made = self.make_and_validate_key(key, version=version)

        def missing():
            # What Django's API says of a key that is not there: the cache is empty for now.
            raise ValueError(f"Key '{key}' not found.")

        return self._guarded(lambda: self._cache.incr(made, delta), missing, [made])

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        made = [self.make_and_validate_key(key, version=version) for key in data]
        return self._guarded(
            lambda: super(ResilientRedisCache, self).set_many(data, timeout, version),
            lambda: list(data),
            made,
        )

    def delete_many(self, keys, version=None):
        keys = list(keys)
        made = [self.make_and_validate_key(key, version=version) for key in keys]
        self._guarded(
            lambda: super(ResilientRedisCache, self).delete_many(keys, version), lambda: None, made
        )

    def clear(self):
        return self._guarded(self._cache.clear, lambda: False)
