"""Liveness and readiness checks.

Liveness touches nothing, so a slow database never gets a healthy task killed; readiness
checks what a request needs and names what failed, for the operator reading the 503.
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import connections
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger(__name__)


def check_database() -> None:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        # A broken persistent connection must not be reused by the next check.
        connection.close()
        raise


def check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    try:
        if cache.get(key) != "1":
            raise RuntimeError("cache did not return the value it was given")
    finally:
        cache.delete(key)


CHECKS = {"database": check_database, "cache": check_cache}


def liveness() -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


def readiness() -> JsonResponse:
    results: dict[str, str] = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as exc:
            logger.warning(
                "readiness check failed",
                extra={"event": "readiness_failed", "check": name, "error": repr(exc)},
            )
            results[name] = "fail"
        else:
            results[name] = "ok"
    failed = sorted(name for name, result in results.items() if result != "ok")
    body = {"status": "fail" if failed else "ok", "checks": results, "failed": failed}
    response = JsonResponse(body, status=503 if failed else 200)
    response["Cache-Control"] = "no-store"
    return response
