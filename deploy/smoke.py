"""The blue/green smoke test: the new revision, through the load balancer's test listener.

It runs as a one-off task of the release's own revision (the migration family's, which carries
the new app image), in the service's private subnets: the test listener admits only the NAT
gateways' addresses, so the check can come from nowhere else, and a check that misses the test
rule is refused rather than answered by the production revision. Its task role is the service's
(the migration's own role reads the database master credentials, which a smoke test must not).

The script runs in the app container with the image's Python and standard library only. It
follows no redirect: a redirect could lead to the production name on 443, whose answer would
prove nothing about the new revision. Each path must answer 200 within WAIT_SECONDS (the new
tasks passed their target group's health check before test traffic reached them; the wait only
covers the listener rule's change propagating).
"""

from __future__ import annotations

# Liveness (gunicorn's master), and a page that a request worker renders through nginx with the
# release's settings, middleware and templates. Not /readyz: nginx answers it 404 from outside
# the task (docs/security.md, "Only /healthz is public"); the migration has already proved the
# database reachable with the new schema.
PATHS = ("/healthz", "/accounts/login/")
WAIT_SECONDS = 120
CONTAINER_TIMEOUT_SECONDS = 300  # the task's own limit, after which the release stops it

SCRIPT = """\
import sys, time, urllib.error, urllib.request

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

base, wait, paths = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
opener = urllib.request.build_opener(NoRedirect)
deadline = time.monotonic() + wait
for path in paths:
    while True:
        request = urllib.request.Request(base + path, headers={"User-Agent": "release-smoke-test"})
        try:
            with opener.open(request, timeout=10) as response:
                answer = response.status
        except urllib.error.HTTPError as exc:
            answer = exc.code
        except OSError as exc:
            answer = type(exc).__name__ + ": " + str(exc)
        if answer == 200:
            print("smoke: " + path + " 200", flush=True)
            break
        if time.monotonic() >= deadline:
            print("smoke: " + path + " answered " + str(answer) + ", not 200", flush=True)
            sys.exit(1)
        time.sleep(5)
"""


def command(base_url: str, wait_seconds: float = WAIT_SECONDS) -> list[str]:
    """The app container's command for a smoke test of `base_url` (no trailing slash)."""
    return ["python", "-c", SCRIPT, base_url.rstrip("/"), str(wait_seconds), *PATHS]
