"""The production settings plus one slow, test-only view (tests/fault_urls.py), for the
graceful-shutdown test: a request that is surely in flight when SIGTERM arrives."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "tests.fault_urls"
