"""The blue/green smoke test as the release runs it: a one-off task, through the test listener.

It runs as a one-off task of the release's own revision (the migration family's, which carries
the new app image), in the service's private subnets: the test listener admits only the NAT
gateways' addresses, so the check can come from nowhere else, and a check that misses the test
rule is refused rather than answered by the production revision. Its task role is the service's
(the migration's own role reads the database master credentials, which a smoke test must not).

What it checks, and how, is the deployment lifecycle hook's (smoke_hook.py: the paths, the wait,
no redirect followed): the script below is that file's `probe`, run in the app container with
the image's Python and standard library only. Since the hook holds every deployment of a
blue/green service at POST_TEST_TRAFFIC_SHIFT until the same check passed, this task repeats its
verdict for the release's log (docs/operations.md, "Blue/green releases").
"""

from __future__ import annotations

import inspect

from . import smoke_hook
from .smoke_hook import PATHS, WAIT_SECONDS

__all__ = ["CONTAINER_TIMEOUT_SECONDS", "PATHS", "SCRIPT", "WAIT_SECONDS", "command"]

CONTAINER_TIMEOUT_SECONDS = 300  # the task's own limit, after which the release stops it

# The hook's probe and what it needs, then a call with the command line's arguments:
# base URL, wait in seconds, paths.
SCRIPT = "\n".join([
    "from __future__ import annotations",
    "import sys, time, urllib.error, urllib.request",
    "from collections.abc import Callable, Sequence",
    "from typing import Any",
    f"REQUEST_TIMEOUT_SECONDS = {smoke_hook.REQUEST_TIMEOUT_SECONDS!r}",
    f"RETRY_SECONDS = {smoke_hook.RETRY_SECONDS!r}",
    inspect.getsource(smoke_hook.NoRedirect),
    inspect.getsource(smoke_hook.probe),
    "sys.exit(0 if probe(sys.argv[1], sys.argv[3:], float(sys.argv[2]), lambda line: print(line, flush=True)) else 1)",
    "",
])


def command(base_url: str, wait_seconds: float = WAIT_SECONDS) -> list[str]:
    """The app container's command for a smoke test of `base_url` (no trailing slash)."""
    return ["python", "-c", SCRIPT, base_url.rstrip("/"), str(wait_seconds), *PATHS]
