"""Typed access to the environment, the only source of settings.

A small helper instead of `bool(os.environ.get(...))`, which treats "0" and "false" as true,
and instead of a dependency: the few parsers the project needs fit on one screen.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_UNSET = object()


class Env:
    """Reads typed values; a malformed value fails at startup, naming the variable."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str, default: Any) -> Any:
        value = self.environ.get(name)
        if value is None:
            if default is _UNSET:
                raise ImproperlyConfigured(f"Set the {name} environment variable.")
            return default
        return value

    def str(self, name: str, default: Any = _UNSET) -> Any:
        return self._raw(name, default)

    def bool(self, name: str, default: Any = _UNSET) -> Any:
        value = self._raw(name, default)
        if isinstance(value, bool) or value is None:
            return value
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false).")

    def int(self, name: str, default: Any = _UNSET) -> Any:
        value = self._raw(name, default)
        if isinstance(value, int) or value is None:
            return value
        try:
            return int(value.strip())
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not an integer.") from None

    def list(self, name: str, default: Any = _UNSET) -> Any:
        value = self._raw(name, default)
        if not isinstance(value, str):
            return list(value)
        return [item.strip() for item in value.split(",") if item.strip()]


def parse_database_url(url: str, *, password: str | None = None) -> dict[str, Any]:
    """Turns postgres://user:pass@host:port/name?opt=v or sqlite:///path into DATABASES['x'].

    `password` overrides the URL's, so a secret injected on its own (e.g. the RDS-managed
    password) never has to be URL-encoded into a string.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db, as the common convention has it.
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(Path(path))}
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(f"DATABASE_URL scheme {parts.scheme!r} is not supported.")
    options: dict[str, Any] = dict(parse_qsl(parts.query))
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": password if password is not None else unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port or ""),
        "OPTIONS": options,
    }
