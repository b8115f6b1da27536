"""The logged-in user read from the cache: loading it was a query on every request.

Django still checks the session's auth hash against the user it gets here, so a password
change ends the user's other sessions as before: the change saves the user, the save replaces
the user's version token (todo/versions.py), and the next request of any session reads the
new password hash from the database.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from todo import versions


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id):
        load = super().get_user
        user, _token = versions.cached(f"auth-user:{user_id}", user_id, lambda: load(user_id))
        # Checked again on a cached user: deactivation also saves the user, but cheap to repeat.
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(self, request, username=None, password=None, **kwargs):
        user = super().authenticate(request, username, password, **kwargs)
        if user is None:
            # The end of the chain: ModelBackend, listed after this one only so that sessions
            # made before it existed still resolve, would check the same password a second time.
            raise PermissionDenied
        return user
