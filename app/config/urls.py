from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("accounts/", include("todo.auth_urls")),
    path("admin/", admin.site.urls),
    path("", include("todo.urls")),
]
