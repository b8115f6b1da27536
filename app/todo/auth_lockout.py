"""Login throttling for every path that authenticates: django-axes with a ticket counter.

django-axes puts its backend first in AUTHENTICATION_BACKENDS, so every `authenticate()` call
(this app's login page, the admin's, anything added later) passes through it before any
password is checked. Its stock handlers compare the failure count first and count a failure
only after the password check, so N parallel POSTs all read the same count and all get a
password check. This handler takes a ticket instead: each attempt atomically increments its
counters (one Lua script, so one step in Redis) before the password is checked, and only an
attempt whose ticket is within every budget reaches the check. A successful login gives its
tickets back.

Two budgets per window of LOGIN_LOCKOUT_SECONDS (AXES_LOCKOUT_PARAMETERS):
- (user name, client address), LOGIN_MAX_FAILURES: guessing one account from one address
  stops, while the account's owner, elsewhere, is not locked out by someone else's guesses;
- client address, LOGIN_MAX_FAILURES_PER_ADDRESS: spraying many accounts from one address
  stops too (larger, since an office behind one NAT address holds several users).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from axes.handlers.base import AbstractAxesHandler, AxesBaseHandler
from axes.helpers import get_client_parameters, get_client_username
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

logger = logging.getLogger(__name__)

# INCR every key; a key that has no expiry yet (new, or left without one) gets the window.
# Returns the new counts, in key order. Atomic: Redis runs a script as one command.
_TAKE_TICKETS = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[1]) end
end
return counts
"""
# Gives one ticket back (never below zero, never creating a key).
_RETURN_TICKET = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 0 then return redis.call('DECR', KEYS[1]) end
return 0
"""


# ---- Who is asking ----


def client_ip(request: HttpRequest) -> str:
    """The client's address (AXES_CLIENT_IP_CALLABLE).

    Behind TRUSTED_PROXY_COUNT proxies that each append to X-Forwarded-For (ALB, then nginx:
    2), the client is that many entries from the right; anything further left was written by
    the client and is ignored, so a forged header cannot pick another address's budget.
    """
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [p for p in forwarded if p]
    if count > 0 and len(forwarded) >= count:
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


def normalised_username(request: HttpRequest, credentials: dict | None) -> str:
    """AXES_USERNAME_CALLABLE: "Alice " and "alice" share one budget."""
    field = settings.AXES_USERNAME_FORM_FIELD
    raw = (credentials or {}).get(field)
    if raw is None:
        raw = request.POST.get(field, "")
    return str(raw).strip().lower()


# ---- Counters ----


def _tolerant(cache, call, fallback):
    """Through the cache's outage guard (config/cache.py) where it has one: while Redis is
    unreachable the lockout counts nothing, as every other use of the cache reads a miss."""
    guarded = getattr(cache, "_guarded", None)
    return guarded(call, fallback) if guarded is not None else call()


class _Counters:
    """Counters in the Django cache: a Lua script on Redis, add()+incr() elsewhere (the
    local-memory cache locks around each, which is atomic within the one process it serves).

    On Redis the script goes through Django's own client (`_cache`, the backend's connection
    pool) with Django's full key names (prefix and version), so `cache.get()` reads what the
    script wrote: Django stores integers as plain Redis integers.
    """

    @property
    def cache(self):
        # Looked up per call: `caches` is per thread, and settings may change (tests).
        return caches[getattr(settings, "AXES_CACHE", "default")]

    def take(self, keys: Sequence[str], ttl: int) -> list[int] | None:
        """The new counts, or None when the cache cannot count (Redis unreachable)."""
        cache = self.cache
        if isinstance(cache, RedisCache):
            full = [cache.make_and_validate_key(k) for k in keys]

            def run() -> list[int]:
                script = cache._cache.get_client(write=True).register_script(_TAKE_TICKETS)
                return [int(n) for n in script(full, [ttl])]

            return _tolerant(cache, run, lambda: None)
        counts = []
        for key in keys:
            cache.add(key, 0, ttl)
            try:
                counts.append(cache.incr(key))
            except ValueError:  # expired between add() and incr(): a new window
                cache.add(key, 1, ttl)
                counts.append(1)
        return counts

    def give_back(self, key: str) -> None:
        cache = self.cache
        if isinstance(cache, RedisCache):

            def run() -> None:
                script = cache._cache.get_client(write=True).register_script(_RETURN_TICKET)
                script([cache.make_and_validate_key(key)])

            _tolerant(cache, run, lambda: None)
            return
        try:
            if (cache.get(key) or 0) > 0:
                cache.decr(key)
        except ValueError:  # expired meanwhile: nothing to give back
            pass

    def read(self, keys: Sequence[str]) -> list[int]:
        return [int(self.cache.get(key) or 0) for key in keys]

    def delete(self, key: str) -> None:
        self.cache.delete(key)


# ---- The handler ----


class Budget(NamedTuple):
    key: str
    limit: int
    per_account: bool  # keyed on the user name as well as the address
    name: str  # e.g. "ip_address+username", for logs


class TicketCacheHandler(AbstractAxesHandler, AxesBaseHandler):
    """AXES_HANDLER: counts every attempt before its password check, refunds successes."""

    def __init__(self) -> None:
        self.counters = _Counters()

    def budgets(self, request, credentials: dict | None) -> list[Budget]:
        """One budget per lockout parameter set, in AXES_LOCKOUT_PARAMETERS order."""
        username = get_client_username(request, credentials)
        sets = get_client_parameters(
            username, request.axes_ip_address, request.axes_user_agent, request, credentials
        )
        found = []
        for params in sets:
            per_account = "username" in params
            limit = (
                settings.LOGIN_MAX_FAILURES
                if per_account
                else settings.LOGIN_MAX_FAILURES_PER_ADDRESS
            )
            # Hashed: user input never shapes the key; JSON keeps ("ab", "1.2") != ("a", "b1.2").
            digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()
            name = "+".join(sorted(params))
            found.append(Budget(f"login:{name}:{digest[:40]}", limit, per_account, name))
        return found

    def is_allowed(self, request, credentials: dict | None = None) -> bool:
        if self.is_blacklisted(request, credentials):
            return False
        if self.is_whitelisted(request, credentials):
            return True
        if credentials is None:
            return not self.is_locked(request, credentials)
        # Called by the axes backend, right before the password check: take the tickets.
        budgets = self.budgets(request, credentials)
        counts = self.counters.take([b.key for b in budgets], settings.LOGIN_LOCKOUT_SECONDS)
        if counts is None:
            # The cache (Redis, shared by every task) is unreachable: fail open rather than
            # refuse every login during a failover. The password is still checked, sessions
            # come from the database, and the gap is logged (and the cache alarms fire).
            request.axes_failures_since_start = 0
            logger.error(
                "login throttle unavailable",
                extra={
                    "event": "login_throttle_unavailable",
                    "client_address": request.axes_ip_address,
                },
            )
            return True
        request.axes_failures_since_start = max(counts)
        over = [b.name for b, n in zip(budgets, counts, strict=True) if n > b.limit]
        if over:
            # What axes' middleware turns into the lockout page (the backend itself sets it
            # only when AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off).
            request.axes_locked_out = True
            request.axes_credentials = credentials
            logger.warning(
                "login locked out",
                extra={
                    "event": "login_locked_out",
                    "client_address": request.axes_ip_address,
                    "path": request.path,
                    "budgets": over,
                },
            )
            return False
        return True

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        budgets = self.budgets(request, credentials)
        counts = self.counters.read([b.key for b in budgets])
        return any(n >= b.limit for b, n in zip(budgets, counts, strict=True))

    def get_failures(self, request, credentials: dict | None = None) -> int:
        budgets = self.budgets(request, credentials)
        return max(self.counters.read([b.key for b in budgets]), default=0)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs) -> None:
        # The ticket was taken before the check: nothing to count here.
        if request is None or getattr(request, "axes_locked_out", False):
            return
        logger.warning(
            "login failed",
            extra={
                "event": "login_failed",
                "client_address": request.axes_ip_address,
                "path": request.path,
            },
        )

    def user_logged_in(self, sender, request, user, **kwargs) -> None:
        if request is None:
            return
        credentials = {settings.AXES_USERNAME_FORM_FIELD: user.get_username()}
        for budget in self.budgets(request, credentials):
            if budget.per_account:
                # The account's own budget from this address starts afresh.
                self.counters.delete(budget.key)
            else:
                # The address's budget gets back only this attempt's ticket: failures made
                # before it (other accounts guessed from here) still count.
                self.counters.give_back(budget.key)

    def user_logged_out(self, sender, request, user, **kwargs) -> None:
        pass

    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        """`manage.py axes_reset_ip ADDRESS` clears an address's budget; with a user name too
        (axes' handler API), that account's budget from the address as well."""
        if not ip_address:
            return 0  # per-account budgets are keyed on the address too: nothing to find
        request = HttpRequest()
        request.axes_ip_address, request.axes_user_agent = ip_address, ""
        credentials = {settings.AXES_USERNAME_FORM_FIELD: username}
        cleared = 0
        for budget in self.budgets(request, credentials):
            if username or not budget.per_account:
                self.counters.delete(budget.key)
                cleared += 1
        return cleared


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page, unbound (nothing checked), with the message, 429."""
    username = normalised_username(request, credentials)
    form = AuthenticationForm(request=request, initial={"username": username})
    return render(
        request, "registration/login.html", {"form": form, "locked_out": True}, status=429
    )
