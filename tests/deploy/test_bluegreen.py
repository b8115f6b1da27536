"""The release program with a BLUE_GREEN service (ECS-native blue/green), against the emulated
account and the declared stand-in for the service-deployment APIs moto lacks
(bluegreen_double.py): the new revision is smoke-tested on the test listener, production traffic
moves only to a revision that passed, and every failure while the old revision still runs (smoke
test, alarm in the bake, no verdict) returns production traffic to it at once."""

from __future__ import annotations

import pytest
from conftest import COMMITS, FAMILIES, SMOKE_TEST_URL, TASK_ROLES, images
from test_faults import release_timeout_minutes

from deploy import smoke
from deploy.errors import DeployError

A, B = COMMITS[:2]


@pytest.fixture
def bg_account(account):
    account.blue_green.enabled = True
    return account


def service_revision(account) -> str:
    return account.running()["taskDefinitionArn"]


def assert_released(account, commit: str) -> None:
    """The service, the tag and each family's latest revision agree, and Terraform plans nothing."""
    assert account.tag() == commit
    assert set(images(account.running()).values()) == {commit}
    for key in FAMILIES:
        assert set(images(account.latest(key)).values()) == {commit}, key
    assert account.terraform.plan() == []


def test_the_new_revision_is_smoke_tested_on_the_test_listener_then_released(bg_account):
    lines = bg_account.release(A)

    assert_released(bg_account, A)
    bg = bg_account.blue_green
    (deployment,) = bg.deployments
    assert deployment["status"] == "SUCCESSFUL" and not bg.stops
    assert bg.production == service_revision(bg_account)
    # One smoke test, while the test listener served the new revision.
    (check,) = bg.smoke_checks
    assert check["test"] == deployment["target"]
    assert check["stage"] in ("POST_TEST_TRAFFIC_SHIFT", "BAKE_TIME")
    # From the release's migration revision (the new image), as the service's task role, with the
    # test listener's URL: never the migration's role, which reads the master credentials.
    (task,) = bg_account.smoke_tasks()
    assert images(
        bg_account.ecs.describe_task_definition(taskDefinition=task.task_definition_arn)["taskDefinition"]
    ) == {"app": A}
    assert task.overrides["taskRoleArn"] == TASK_ROLES["service"]
    (container,) = task.overrides["containerOverrides"]
    assert container["name"] == "app"
    assert container["command"] == smoke.command(SMOKE_TEST_URL)
    assert "deployment strategy: BLUE_GREEN, bake time 3 minutes" in lines
    assert lines.index("smoke test: passed") < lines.index(
        f"service {bg_account.settings(A).service}: deployment completed"
    )


def test_a_failed_smoke_test_returns_production_traffic_to_the_old_revision(bg_account):
    bg_account.release(A)
    good = service_revision(bg_account)
    bg = bg_account.blue_green
    bg.green_healthy = False

    with pytest.raises(DeployError, match=f"smoke test: {SMOKE_TEST_URL} failed.*rolled back to {good}"):
        bg_account.release(B)

    failed = bg.deployments[-1]
    assert bg.stops == [failed["arn"]]  # StopServiceDeployment, stopType ROLLBACK
    assert failed["status"] == "ROLLBACK_SUCCESSFUL"
    assert bg.production == good and service_revision(bg_account) == good
    assert_released(bg_account, A)


def test_a_pause_hook_keeps_production_on_the_old_revision_until_the_smoke_test_passes(bg_account):
    bg = bg_account.blue_green
    bg.pause_hook = True
    bg_account.release(A)
    good = service_revision(bg_account)

    bg_account.release(B)

    new = bg.deployments[-1]
    # Production was still on A when the smoke test ran; only its verdict let ECS go on.
    assert bg.smoke_checks[-1]["production"] == good and bg.smoke_checks[-1]["test"] == new["target"]
    assert bg.continues[-1] == (new["arn"], "CONTINUE")
    assert bg.production == new["target"]
    assert_released(bg_account, B)


def test_with_a_pause_hook_a_failed_smoke_test_never_lets_production_reach_the_new_revision(bg_account):
    bg = bg_account.blue_green
    bg.pause_hook = True
    bg_account.release(A)
    good = service_revision(bg_account)
    bg.green_healthy = False
    served_before = len(bg.served)

    with pytest.raises(DeployError, match="smoke test: .* failed"):
        bg_account.release(B)

    assert set(bg.served[served_before:]) <= {good}  # production traffic never left the old revision
    assert bg.stops == [bg.deployments[-1]["arn"]]
    assert_released(bg_account, A)


def test_with_the_lambda_hook_a_passing_release_is_released_without_answering_the_hook(bg_account):
    bg = bg_account.blue_green
    bg.lambda_hook = True
    bg_account.release(A)

    bg_account.release(B)

    new = bg.deployments[-1]
    assert [h["status"] for h in new["hooks"]] == ["SUCCEEDED"]
    assert not bg.continues and not bg.stops  # a Lambda hook is ECS's to answer, never the release's
    assert bg.production == new["target"]
    assert_released(bg_account, B)


def test_a_failing_lambda_hook_rolls_back_in_ecs_before_production_moves_and_the_release_restores(bg_account):
    bg = bg_account.blue_green
    bg.lambda_hook = True
    bg_account.release(A)
    good = service_revision(bg_account)
    bg.green_healthy = False
    served_before = len(bg.served)

    with pytest.raises(DeployError, match=f"ROLLBACK_SUCCESSFUL \\(lifecycle hook AWS_LAMBDA.*rolled back to {good}"):
        bg_account.release(B)

    assert set(bg.served[served_before:]) <= {good}  # production traffic never left the old revision
    assert not bg.stops  # ECS rolled back by itself: nothing to stop
    assert_released(bg_account, A)


def test_an_alarm_during_the_bake_rolls_back_in_ecs_and_the_release_restores_the_rest(bg_account):
    bg_account.release(A)
    good = service_revision(bg_account)
    bg = bg_account.blue_green
    bg_account.scheduler.rollout = "FAILED"

    with pytest.raises(DeployError, match=f"ROLLBACK_SUCCESSFUL \\(deployment alarm.*rolled back to {good}"):
        bg_account.release(B)

    assert not bg.stops  # ECS rolled back by itself: nothing to stop
    assert bg.production == good
    assert_released(bg_account, A)


def test_no_verdict_within_deploy_timeout_and_bake_is_stopped_with_a_rollback(bg_account):
    bg_account.release(A)
    good = service_revision(bg_account)
    bg = bg_account.blue_green
    bg_account.scheduler.rollout = "NEVER"
    start = bg_account.now

    with pytest.raises(DeployError, match=f"not SUCCESSFUL within 4 minutes.*rolled back to {good}"):
        bg_account.release(B, deploy_timeout_seconds=60)

    assert bg.stops == [bg.deployments[-1]["arn"]]
    assert bg.production == good
    assert_released(bg_account, A)
    # It waited the deploy timeout plus the bake time, and ended well within the build's timeout.
    elapsed = bg_account.now - start
    assert (1 + 3) * 60 <= elapsed <= (release_timeout_minutes(10, 1, bg.bake_minutes) - 5) * 60


def test_a_failure_after_the_deployment_succeeded_rolls_back_with_a_new_deployment(bg_account):
    bg_account.release(A)
    good = service_revision(bg_account)
    bg = bg_account.blue_green
    # The job revision, registered after the rollout, is refused.
    bg_account.faults.plan("RegisterTaskDefinition", "AccessDeniedException", after="UpdateService")

    with pytest.raises(DeployError, match=f"AccessDenied.*rolled back to {good}"):
        bg_account.release(B)

    released, back = bg.deployments[-2:]
    assert released["status"] == "SUCCESSFUL" and not bg.stops
    assert back["target"] == good and back["status"] == "SUCCESSFUL"  # a blue/green deployment of A
    assert bg.production == good
    assert_released(bg_account, A)


def test_a_blue_green_release_without_the_test_listener_url_is_refused_before_it_migrates(bg_account):
    with pytest.raises(DeployError, match="BLUE_GREEN, but SMOKE_TEST_URL"):
        bg_account.release(A, smoke_test_url=None)

    assert bg_account.scheduler.migrations == []
    assert not bg_account.blue_green.deployments


def test_a_rolling_service_never_calls_the_blue_green_apis(account):
    """The stand-in refuses every service-deployment call while the service reports ROLLING."""
    lines = account.release(A)

    assert "deployment strategy: ROLLING" in lines
    assert not account.smoke_tasks()
    assert_released(account, A)


def test_each_stand_in_answers_only_what_moto_lacks():
    """Stale when moto learns an operation: then the release should meet moto's, not the double's."""
    import inspect
    import re

    from bluegreen_double import GAPS
    from moto.ecs.models import Service
    from moto.ecs.responses import EC2ContainerServiceResponse

    for operation in GAPS:
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
        if operation == "DescribeServices":
            assert "deploymentConfiguration" not in inspect.getsource(Service), "moto now keeps the strategy"
        else:
            assert not hasattr(EC2ContainerServiceResponse, method), f"moto now implements {operation}"
