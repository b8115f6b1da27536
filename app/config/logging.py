"""One JSON object per line, shared by Django's LOGGING and gunicorn's logconfig_dict.

CloudWatch Logs (and any log pipeline) can then query fields instead of parsing text.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# gunicorn passes its access-log atoms as the record's args; these become named fields.
_ACCESS_FIELDS = {
    "h": "remote_addr",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "a": "user_agent",
    "{x-forwarded-for}i": "forwarded_for",
    "{x-request-id}i": "request_id",
}


class JsonFormatter(_JsonFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault(
            "rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"}
        )
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        # UTC ISO 8601: Django sets the process time zone (TIME_ZONE), and gunicorn's master
        # runs before Django; local times would disagree between lines of one request.
        return datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds")

    def add_fields(
        self, log_record: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_record, record, message_dict)
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            for atom, field in _ACCESS_FIELDS.items():
                value = record.args.get(atom)
                if value not in (None, "-", ""):
                    log_record[field] = value
            log_record["message"] = "request"
        # Django attaches the request object to some records; it is not serialisable as is.
        log_record.pop("request", None)
        log_record.pop("server_time", None)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """dictConfig for Django: everything propagates to one JSON stdout handler on the root."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "config.logging.JsonFormatter"}},
        "filters": {"db_unavailable": {"()": "config.db.outage.DatabaseUnavailableFilter"}},
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "json",
            }
        },
        "root": {"handlers": ["stdout"], "level": level},
        "loggers": {
            "django": {"level": level, "propagate": True},
            # A 503 for a lost database: one db_unavailable line per interval, not a traceback
            # per request (config/db/outage.py).
            "django.request": {"level": level, "propagate": True, "filters": ["db_unavailable"]},
            # Django's dev server logger would duplicate gunicorn's access log.
            "django.server": {"level": "WARNING", "propagate": True},
            "todo": {"level": level, "propagate": True},
        },
    }
