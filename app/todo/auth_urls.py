from django.contrib.auth import views as auth_views
from django.urls import path

# Only what the app uses: no password reset, as there is no mail service to send the link.
# Login throttling is not in the view: the axes backend guards every authenticate() call,
# this page's and the admin's alike (todo/auth_lockout.py).
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
