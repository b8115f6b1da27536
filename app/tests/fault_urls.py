import os
import time

from django.http import HttpResponse
from django.urls import include, path


def slow(request):
    """Notes that it started (by request id), then takes ?ms= milliseconds to answer."""
    with open(os.environ["FAULT_STARTED_LOG"], "a", encoding="utf-8") as log:
        log.write(request.headers.get("X-Request-Id", "-") + "\n")
    time.sleep(int(request.GET.get("ms", "300")) / 1000)
    return HttpResponse("done", content_type="text/plain")


urlpatterns = [
    path("slow/", slow),
    path("", include("config.urls")),
]
