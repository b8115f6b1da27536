"""The deployment lifecycle hook (deploy/smoke_hook.py), called as Lambda calls it, against a
local HTTP server that plays the test listener (listener.py)."""

from __future__ import annotations

import threading
import time

import pytest
from http_listener import HANG, Listener

from deploy import smoke_hook

# What ECS sends at POST_TEST_TRAFFIC_SHIFT (Lambda hooks for Amazon ECS service deployments,
# ECS Developer Guide): the deployment, its stage and the traffic weights.
EVENT = {
    "executionDetails": {
        "testTrafficWeights": {},
        "productionTrafficWeights": {},
        "serviceArn": "arn:aws:ecs:ap-northeast-1:222222222222:service/todo-stg-app-web-main-ecs/"
                      "todo-stg-app-web-main-svc",
        "targetServiceRevisionArn": "arn:aws:ecs:ap-northeast-1:222222222222:service-revision/todo-stg/1",
    },
    "executionId": "execution-1",
    "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
    "resourceArn": "arn:aws:ecs:ap-northeast-1:222222222222:service-deployment/todo-stg/1",
}


class Context:
    """Lambda's context object: only the remaining time is read."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.monotonic() + seconds

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - time.monotonic()) * 1000)


def invoke(monkeypatch: pytest.MonkeyPatch, url: str | None, seconds: float = 20,
           event: object = EVENT) -> tuple[dict[str, str], float]:
    if url is None:
        monkeypatch.delenv(smoke_hook.URL_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(smoke_hook.URL_VARIABLE, url)
    started = time.monotonic()
    answer = smoke_hook.handler(event, Context(seconds))
    return answer, time.monotonic() - started


def test_every_path_answering_200_lets_the_deployment_go_on(monkeypatch, listener: Listener, capsys):
    answer, _ = invoke(monkeypatch, listener.url + "/")

    assert answer == {"hookStatus": "SUCCEEDED"}
    assert listener.seen == list(smoke_hook.PATHS)
    out = capsys.readouterr().out
    assert '"lifecycleStage": "POST_TEST_TRAFFIC_SHIFT"' in out  # the deployment is named in the log
    assert f"smoke hook: SUCCEEDED: {listener.url} answered 200" in out


def test_a_server_error_fails_the_hook_within_the_wait(monkeypatch, listener: Listener, capsys):
    listener.answers["/healthz"] = 500

    answer, took = invoke(monkeypatch, listener.url, seconds=18)  # a wait of 3 s

    assert answer == {"hookStatus": "FAILED"}
    assert took < 18
    assert "smoke: /healthz answered 500, not 200" in capsys.readouterr().out
    assert "/accounts/login/" not in listener.seen


def test_a_redirect_fails_the_hook_and_is_not_followed(monkeypatch, listener: Listener, capsys):
    listener.answers["/accounts/login/"] = 302

    answer, _ = invoke(monkeypatch, listener.url, seconds=15)

    assert answer == {"hookStatus": "FAILED"}
    assert "/elsewhere/" not in listener.seen
    assert "smoke: /accounts/login/ answered 302, not 200" in capsys.readouterr().out


def test_a_listener_that_never_answers_fails_before_lambda_would_stop_the_function(monkeypatch,
                                                                                   listener: Listener, capsys):
    listener.answers["/healthz"] = HANG

    answer, took = invoke(monkeypatch, listener.url, seconds=18)

    assert answer == {"hookStatus": "FAILED"}
    # Answered with time to spare: a function Lambda stops returns nothing, and its log says less.
    assert took < 18 - smoke_hook.ANSWER_MARGIN_SECONDS
    out = capsys.readouterr().out
    assert "smoke: /healthz answered TimeoutError" in out or "smoke: /healthz answered URLError" in out


def test_a_path_that_recovers_within_the_wait_passes(monkeypatch, listener: Listener):
    """The test rule's change may take a moment to reach every load balancer node."""
    listener.answers["/healthz"] = 503

    def recover() -> None:
        time.sleep(1)
        listener.answers["/healthz"] = 200

    threading.Thread(target=recover, daemon=True).start()
    answer, _ = invoke(monkeypatch, listener.url, seconds=40)

    assert answer == {"hookStatus": "SUCCEEDED"}
    assert listener.seen.count("/healthz") >= 2


@pytest.mark.parametrize("url", [None, "", "stg.todo.example.com:8443"])
def test_without_the_test_listener_url_the_hook_fails_and_says_so(monkeypatch, url, capsys):
    answer, _ = invoke(monkeypatch, url)

    assert answer == {"hookStatus": "FAILED"}
    assert "smoke hook: FAILED: SMOKE_TEST_URL (the test listener's URL) is not set" in capsys.readouterr().out


@pytest.mark.parametrize("event", [None, [], "text", {"executionDetails": "not a map"}])
def test_an_event_of_another_shape_still_gets_its_smoke_test(monkeypatch, listener: Listener, event):
    """The event is only logged: the test listener is where the new revision is."""
    answer, _ = invoke(monkeypatch, listener.url, event=event)

    assert answer == {"hookStatus": "SUCCEEDED"}
    assert listener.seen == list(smoke_hook.PATHS)


def test_an_error_inside_the_hook_is_a_logged_failure_not_an_exception(monkeypatch, listener: Listener, capsys):
    def broken(*args: object) -> bool:
        raise RuntimeError("boom")

    monkeypatch.setattr(smoke_hook, "probe", broken)
    answer, _ = invoke(monkeypatch, listener.url)

    assert answer == {"hookStatus": "FAILED"}
    assert "smoke hook: FAILED: RuntimeError: boom" in capsys.readouterr().out


def test_the_function_timeout_leaves_room_for_the_whole_wait():
    assert smoke_hook.FUNCTION_TIMEOUT_SECONDS >= (smoke_hook.WAIT_SECONDS + smoke_hook.REQUEST_TIMEOUT_SECONDS
                                                   + smoke_hook.ANSWER_MARGIN_SECONDS)
