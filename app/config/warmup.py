"""Work every worker's first request would do on its own, done once in gunicorn's master.

With preload_app the master has imported Django before it forks the workers. What Django
still loads lazily (the cache backend and the Redis client library, about 0.15 s; the
compiled templates; the URL resolver) would otherwise be loaded again in each worker, on its
first request, in memory it cannot share. Nothing here opens a connection: a socket opened
before the fork would be shared by every worker.
"""

from __future__ import annotations

from django.conf import settings
from django.template import loader
from django.urls import reverse
from django.utils.module_loading import import_string

TEMPLATES = (
    "todo/todo_list.html",
    "todo/_rows.html",
    "todo/todo_form.html",
    "todo/todo_confirm_delete.html",
    "registration/login.html",
    "404.html",
    "500.html",
    "503.html",
)


def warm() -> None:
    for config in settings.CACHES.values():
        import_string(config["BACKEND"])
    for name in TEMPLATES:
        loader.get_template(name)
    reverse("todo:list")
