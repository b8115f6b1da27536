from django.urls import include, path


def broken_view(request):
    raise RuntimeError("a bug in a view")


urlpatterns = [
    path("boom/", broken_view),
    path("", include("config.urls")),
]
