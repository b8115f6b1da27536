"""Run by the app's own Python, inside the app folder: test data and query counts.

    python app_probe.py seed USERNAME COUNT   (password from BENCH_PASSWORD; idempotent)
    python app_probe.py queries COUNT...      (JSON: queries per list page for each count)
"""

from __future__ import annotations

import json
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
sys.path.insert(0, os.getcwd())
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
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
        client.get("/")  # warm: the first request of a process loads content types and such
        counted = []
        # Another path first (its rows are not cached yet), then the same again (cached).
        for path in ("/?status=all", "/?status=all"):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"list page answered {response.status_code}")
            counted.append(len(captured.captured_queries))
        result[count] = {"uncached": counted[0], "cached": counted[1]}
    return result


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "seed":
        user_with_todos(args[0], int(args[1]))
    elif command == "queries":
        print(json.dumps(queries([int(a) for a in args])))
    else:
        raise SystemExit(f"unknown command {command}")
