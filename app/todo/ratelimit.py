"""Login throttling: a fixed window of failed attempts counted in the shared cache.

Counted per user name (so guessing one account from many addresses is stopped) and per client
address with a larger budget (so spraying many accounts from one address is stopped too).
The cache is Redis in production, shared by every task, so the limit holds across tasks.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)

# One address may legitimately serve several users (an office NAT).
_ADDRESS_BUDGET_FACTOR = 4


def client_address(request: HttpRequest) -> str:
    count = settings.TRUSTED_PROXY_COUNT
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [p for p in forwarded if p]
    if count > 0 and len(forwarded) >= count:
        # Each trusted proxy appends the address it saw; the client is `count` from the right.
        return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")


def _keys(request: HttpRequest, username: str) -> list[tuple[str, int]]:
    limit = settings.LOGIN_MAX_FAILURES
    # Hashed so user input never shapes the cache key (length, spaces, control characters).
    user_digest = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"login-fail:user:{user_digest}", limit),
        (f"login-fail:addr:{client_address(request)}", limit * _ADDRESS_BUDGET_FACTOR),
    ]


def is_locked_out(request: HttpRequest, username: str) -> bool:
    return any((cache.get(key) or 0) >= limit for key, limit in _keys(request, username))


def record_failure(request: HttpRequest, username: str) -> None:
    timeout = settings.LOGIN_LOCKOUT_SECONDS
    for key, _limit in _keys(request, username):
        # add() starts the window only once; incr() is atomic on Redis.
        cache.add(key, 0, timeout)
        try:
            cache.incr(key)
        except ValueError:
            # The key expired between add() and incr(): start a new window.
            cache.set(key, 1, timeout)
    logger.warning(
        "login failed",
        extra={"event": "login_failed", "client_address": client_address(request)},
    )


def reset_failures(request: HttpRequest, username: str) -> None:
    # Only the account's counter: an address's budget is not refilled by one good login.
    cache.delete(_keys(request, username)[0][0])
