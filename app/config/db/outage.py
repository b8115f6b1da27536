"""One `db_unavailable` event per interval instead of a traceback per 503.

When a request fails because the database cannot be reached, the 503 page answers it (the
handler500 in todo/views.py) and Django's `django.request` logger writes an ERROR with the
whole traceback, for every request: an outage of a minute floods the logs. This filter, on
that logger, turns such a record (status 503, raised by a database OperationalError or
InterfaceError) into one structured line per INTERVAL seconds and per process,
{"event": "db_unavailable", "requests": N, ...}, N the 503s it stands for, and drops the rest.
Monitoring counts `$.event = "db_unavailable"`; every other record passes unchanged.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import InterfaceError, OperationalError

from config.db.circuit import describe

INTERVAL = 10.0
_UNAVAILABLE = (OperationalError, InterfaceError)


class DatabaseUnavailableFilter(logging.Filter):
    def __init__(self, interval: float = INTERVAL) -> None:
        super().__init__()
        self.interval = interval
        self.lock = threading.Lock()
        self.last_logged = float("-inf")
        self.unlogged = 0

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if getattr(record, "status_code", None) != 503 or not isinstance(exc, _UNAVAILABLE):
            return True
        with self.lock:
            self.unlogged += 1
            now = time.monotonic()
            if now - self.last_logged < self.interval:
                return False
            requests, self.unlogged, self.last_logged = self.unlogged, 0, now
        record.msg, record.args = "database unavailable; answered 503", ()
        record.exc_info = record.exc_text = None
        record.event = "db_unavailable"
        record.error = describe(exc)
        record.requests = requests
        record.interval_s = self.interval
        return True
