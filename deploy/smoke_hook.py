"""The blue/green smoke test as an ECS deployment lifecycle hook (an AWS Lambda function).

ECS invokes `handler` at the POST_TEST_TRAFFIC_SHIFT stage of every deployment of a BLUE_GREEN
service (modules/ecs/smoke_hook.tf): the test listener then serves the new (green) revision and
production traffic is still on the old (blue) one, and ECS waits for the answer before it moves
production traffic. The function returns {"hookStatus": "SUCCEEDED"} when every path in PATHS
answered 200 through the test listener (SMOKE_TEST_URL in the function's environment) within
WAIT_SECONDS, {"hookStatus": "FAILED"} otherwise, and ECS then rolls the deployment back to the
last successful revision. It never returns IN_PROGRESS (it retries within one invocation, so one
deployment is one invocation) and never raises: ECS also rolls back when the function fails, but
a FAILED answer comes with a log line that says why.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html

The function runs in the service's private subnets, so its requests leave through the NAT
gateways, the only addresses the test listener admits. It follows no redirect: a redirect could
lead to the production name on 443, whose answer would prove nothing about the new revision.

This file is the one source of what a smoke test checks: the release program's own smoke task
(deploy/smoke.py) runs `probe` from here in the app container. It is packaged alone, as the
function's only file (render.py writes the zip into each blue/green root), so it imports the
standard library only.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any

# Liveness (gunicorn's master), and a page that a request worker renders through nginx with the
# revision's settings, middleware and templates. Not /readyz: nginx answers it 404 from outside
# the task (docs/security.md, "Only /healthz is public"); the migration has already proved the
# database reachable with the new schema.
PATHS = ("/healthz", "/accounts/login/")
# How long every path together may take to answer 200. The new tasks passed their target group's
# health check before test traffic reached them; the wait covers the listener rule's change
# propagating to every load balancer node.
WAIT_SECONDS = 120
REQUEST_TIMEOUT_SECONDS = 10
RETRY_SECONDS = 5
# The function's timeout (modules/ecs, rendered from here): the wait, one last request and the
# start of the function, so the handler always answers before Lambda stops it.
FUNCTION_TIMEOUT_SECONDS = WAIT_SECONDS + REQUEST_TIMEOUT_SECONDS + 20
# The function's environment variable, named as the release program's (deploy/settings.py).
URL_VARIABLE = "SMOKE_TEST_URL"
# Time kept back from the invocation's remaining time to answer and log.
ANSWER_MARGIN_SECONDS = 5


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def probe(base: str, paths: Sequence[str], wait: float, log: Callable[[str], None]) -> bool:
    """True when every path of `base` (no trailing slash) answers 200 before `wait` seconds are
    over; each failing answer is retried every RETRY_SECONDS until then. `log` gets one line per
    path: "smoke: <path> 200" or "smoke: <path> answered <status or error>, not 200".

    Self-contained (names from this module's imports and constants only): deploy/smoke.py sends
    its source to the app container."""
    opener = urllib.request.build_opener(NoRedirect)
    deadline = time.monotonic() + wait
    for path in paths:
        while True:
            left = deadline - time.monotonic()
            request = urllib.request.Request(base + path, headers={"User-Agent": "release-smoke-test"})
            try:
                with opener.open(request, timeout=max(1.0, min(REQUEST_TIMEOUT_SECONDS, left))) as response:
                    answer = response.status
            except urllib.error.HTTPError as exc:
                answer = exc.code
            except OSError as exc:
                answer = type(exc).__name__ + ": " + str(exc)
            if answer == 200:
                log("smoke: " + path + " 200")
                break
            if time.monotonic() + RETRY_SECONDS >= deadline:
                log("smoke: " + path + " answered " + str(answer) + ", not 200")
                return False
            time.sleep(RETRY_SECONDS)
    return True


def _log(line: str) -> None:
    print(line, flush=True)  # one line per event in the function's log group


def handler(event: Any, context: Any) -> dict[str, str]:
    """ECS's Lambda hook: SUCCEEDED when the revision behind the test listener passes, else FAILED.

    The event names the deployment (executionDetails: serviceArn, targetServiceRevisionArn, the
    traffic weights; lifecycleStage), which is only logged: the test listener is where the new
    revision is, whichever deployment this is."""
    try:
        # Read for the log only: an event of another shape still gets its smoke test.
        event = event if isinstance(event, dict) else {}
        details = event.get("executionDetails")
        details = details if isinstance(details, dict) else {}
        stage = event.get("lifecycleStage")
        _log("smoke hook: " + json.dumps({"lifecycleStage": stage,
                                          "serviceArn": details.get("serviceArn"),
                                          "targetServiceRevisionArn": details.get("targetServiceRevisionArn")}))
        base = os.environ.get(URL_VARIABLE, "").strip().rstrip("/")
        if not base.startswith("https://") and not base.startswith("http://"):
            _log(f"smoke hook: FAILED: {URL_VARIABLE} (the test listener's URL) is not set in the function's "
                 f"environment (got {base!r})")
            return {"hookStatus": "FAILED"}
        remaining = context.get_remaining_time_in_millis() / 1000 if context is not None else WAIT_SECONDS
        wait = max(0.0, min(WAIT_SECONDS, remaining - REQUEST_TIMEOUT_SECONDS - ANSWER_MARGIN_SECONDS))
        if probe(base, PATHS, wait, _log):
            _log(f"smoke hook: SUCCEEDED: {base} answered 200 on {', '.join(PATHS)}")
            return {"hookStatus": "SUCCEEDED"}
        _log(f"smoke hook: FAILED: {base} did not answer 200 within {wait:.0f} s; ECS rolls back")
        return {"hookStatus": "FAILED"}
    except Exception as exc:  # noqa: BLE001 - an exception would roll back without a word: say why
        _log(f"smoke hook: FAILED: {type(exc).__name__}: {exc}")
        return {"hookStatus": "FAILED"}
