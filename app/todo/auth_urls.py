from django.contrib.auth import views as auth_views
from django.urls import path

from todo.auth_views import RateLimitedLoginView

# Only what the app uses: no password reset, as there is no mail service to send the link.
urlpatterns = [
    path("login/", RateLimitedLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
