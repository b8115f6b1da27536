"""Loaded with `-p tests.testenv`, before pytest-django imports the settings.

The tests run the production settings (DEBUG off); these are only the values a test run on
plain HTTP needs and that production gets from its environment. A value already set wins.
"""

import os
import secrets

os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# The test client speaks plain HTTP; the redirect itself has a test of its own.
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
# Each run gets its own cache namespace, so runs sharing one Redis never see each other.
os.environ.setdefault("CACHE_KEY_PREFIX", f"test-{secrets.token_hex(4)}")
