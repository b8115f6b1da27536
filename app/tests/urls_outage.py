from django.db import OperationalError
from django.urls import include, path

from tests.urls_error import broken_view


def database_down(request):
    raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: refused')


urlpatterns = [
    path("db-down/", database_down),
    path("boom/", broken_view),
    path("", include("config.urls")),
]
handler500 = "todo.views.server_error"
