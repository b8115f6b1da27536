"""Run by the app's own Python, inside the app folder: test data and query counts.

    python app_probe.py seed USERNAME COUNT   (password from BENCH_PASSWORD; idempotent)
    python app_probe.py queries COUNT...      (JSON: queries per list page for each count)
    python app_probe.py inprocess COUNT N     (JSON: ms per request, list page beside an empty view)
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import types

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, os.getcwd())
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.decorators import login_required  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import include, re_path  # noqa: E402
from todo.models import Todo  # noqa: E402


def user_with_todos(username: str, count: int):
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_password(os.environ["BENCH_PASSWORD"])
        user.save()
    missing = count - Todo.objects.filter(owner=user).count()
    if missing > 0:
        Todo.objects.bulk_create(
            Todo(owner=user, title=f"TODO {i}", notes="メモ\n二行目" if i % 3 else "", done=i % 4 == 0)
            for i in range(missing)
        )
    return user


# No collected manifest here; where a stylesheet's name comes from changes no query.
@override_settings(
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
    ALLOWED_HOSTS=["testserver"],
)
def queries(counts: list[int]) -> dict[int, int]:
    result = {}
    for count in counts:
        client = Client()
        client.force_login(user_with_todos(f"bench-queries-{count}", count))
        client.get("/?status=open")  # warm: content types and such, the user, the counts
        counted = []
        # A page not seen yet (rendered and kept), then the same again (from the cache).
        for path in ("/?status=all", "/?status=all"):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"list page answered {response.status_code}")
            counted.append(len(captured.captured_queries))
        result[count] = {"uncached": counted[0], "cached": counted[1]}
    return result


# The site's URLs plus a view that does nothing but need a logged-in user: what every page
# pays for the middleware, the session and the user, without anything of its own.
_urls = types.ModuleType("bench_probe_urls")
_urls.urlpatterns = [
    re_path(r"^bench-empty/$", login_required(lambda request: HttpResponse(b"ok"))),
    re_path(r"", include("config.urls")),
]
sys.modules[_urls.__name__] = _urls


def _timed(client: Client, url: str, requests: int) -> dict[str, float]:
    """Median of 5 batches of `requests` GETs, in ms per request (wall clock and this process's
    CPU time); the median keeps a burst of load from elsewhere out of the figure."""
    wall, cpu = [], []
    for _ in range(5):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(requests):
            response = client.get(url)
        wall.append((time.perf_counter() - start_wall) * 1000 / requests)
        cpu.append((time.process_time() - start_cpu) * 1000 / requests)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    return {"wall_ms": statistics.median(wall), "cpu_ms": statistics.median(cpu)}


@override_settings(
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
    ALLOWED_HOSTS=["testserver"],
    ROOT_URLCONF=_urls.__name__,
)
def inprocess(count: int, requests: int) -> dict[str, dict[str, float]]:
    """Django's test client, no server: what the list page adds to a logged-in request."""
    client = Client()
    client.force_login(user_with_todos(f"bench-{count}", count))
    for url in ("/healthz", "/bench-empty/", "/"):  # warm: first-request loading, the caches
        client.get(url)
    result = {name: _timed(client, url, requests)
              for name, url in (("healthz", "/healthz"), ("empty", "/bench-empty/"), ("list", "/"))}
    result["list_share_ms"] = {
        unit: result["list"][unit] - result["empty"][unit] for unit in ("wall_ms", "cpu_ms")
    }
    return result


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "seed":
        user_with_todos(args[0], int(args[1]))
    elif command == "queries":
        print(json.dumps(queries([int(a) for a in args])))
    elif command == "inprocess":
        print(json.dumps(inprocess(int(args[0]), int(args[1]))))
    else:
        raise SystemExit(f"unknown command {command}")
