from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("todo.auth_urls")),
    path("admin/", admin.site.urls),
    path("", include("todo.urls")),
]

# A lost database answers 503 (retry later) instead of 500; see todo.views.server_error.
handler500 = "todo.views.server_error"
