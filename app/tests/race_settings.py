"""The app's settings plus a password hasher that counts its checks in Redis, for
tests/test_login_race.py. RACE_AXES_HANDLER swaps in another axes handler (the control run)."""

import os

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["tests.race_settings.CountingHasher"]
if os.environ.get("RACE_AXES_HANDLER"):
    AXES_HANDLER = os.environ["RACE_AXES_HANDLER"]
    AXES_LOCKOUT_CALLABLE = None


def checks_key() -> str:
    return f"{os.environ['CACHE_KEY_PREFIX']}:password-checks"


class CountingHasher(PBKDF2PasswordHasher):
    """Django's default hasher (same algorithm name, so it verifies the stored hashes) that
    counts every password check, in whichever gunicorn worker it runs."""

    def verify(self, password, encoded):
        import redis

        redis.Redis.from_url(os.environ["REDIS_URL"]).incr(checks_key())
        return super().verify(password, encoded)
