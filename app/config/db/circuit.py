"""A per-process "database down" circuit around new connections.

Without it, every request during an outage waits out the connect timeout before its 503, each
one holding a worker (a black-holed primary, as in an RDS failover, answers nothing: the
client waits the whole timeout). With it, a connection attempt that fails for want of a server
opens the circuit for about RETRY seconds: new connections are then refused at once, so pages
answer 503 at once. After that one attempt at a time goes through (the others are still
refused); its success closes the circuit, its failure opens it again. The retry time is
jittered so that a task's workers, which all saw the outage begin together, do not all spend a
connect timeout at the same moment.

Per process and per database alias: each worker learns of an outage from its own first failure
and of the recovery from its own first success. A refused password is no outage (the server
answered) and closes the circuit like a success.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    """Type and first line: libpq's message names host and port, never the password."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class Circuit:
    def __init__(self, alias: str) -> None:
        self.alias = alias
        self.lock = threading.Lock()
        self.open_until = 0.0  # monotonic; 0: closed
        self.opened_at = 0.0
        self.trial = False  # an attempt is in flight while the retry time has come
        self.last_error = ""

    def _admit(self, refuse: Callable[[str], Exception]) -> None:
        with self.lock:
            if not self.open_until:
                return
            now = time.monotonic()
            if now < self.open_until or self.trial:
                wait = max(self.open_until - now, 0)
                raise refuse(
                    f"database unavailable ({self.last_error}); next attempt in {wait:.1f} s"
                )
            self.trial = True

    def _failed(self, exc: Exception, retry_after: float) -> None:
        with self.lock:
            was_open = bool(self.open_until)
            now = time.monotonic()
            self.open_until = now + retry_after * random.uniform(0.75, 1.25)  # noqa: S311
            self.trial = False
            self.last_error = describe(exc)
            if not was_open:
                self.opened_at = now
        if not was_open:
            logger.warning(
                "database unreachable; new connections refused at once until a retry succeeds",
                extra={
                    "event": "db_circuit_open",
                    "alias": self.alias,
                    "error": self.last_error,
                    "retry_s": retry_after,
                },
            )

    def _answered(self) -> None:
        with self.lock:
            was_open, self.open_until, self.trial = bool(self.open_until), 0.0, False
            down_s = time.monotonic() - self.opened_at
        if was_open:
            logger.warning(
                "database reachable again",
                extra={
                    "event": "db_circuit_closed",
                    "alias": self.alias,
                    "down_s": round(down_s, 1),
                },
            )

    def _released(self) -> None:
        with self.lock:
            self.trial = False

    def call(
        self,
        connect: Callable[[], Any],
        *,
        outage: Callable[[Exception], bool | None],
        refuse: Callable[[str], Exception],
        retry_after: float,
    ) -> Any:
        """connect(), unless the circuit is open (then refuse(message) is raised). outage(exc)
        says what a failure means: True the server is unreachable, False it answered (a refused
        password), None nothing is known (the attempt never reached it)."""
        self._admit(refuse)
        try:
            result = connect()
        except Exception as exc:
            verdict = outage(exc)
            if verdict:
                self._failed(exc, retry_after)
            elif verdict is False:
                self._answered()
            else:
                self._released()
            raise
        except BaseException:
            self._released()
            raise
        self._answered()
        return result


_circuits: dict[str, Circuit] = {}
_circuits_lock = threading.Lock()


def circuit_for(alias: str) -> Circuit:
    with _circuits_lock:
        return _circuits.setdefault(alias, Circuit(alias))
