"""The release program against its own faults: a build killed mid-rollout and retried, AWS errors
at any step after the UpdateService, a rollback that fails, throttled polls, a migration task
DescribeTasks does not know yet, and an error while the migration runs."""

from __future__ import annotations

import re

import boto3
import pytest
from botocore.exceptions import ClientError
from conftest import COMMITS, FAMILIES, REGION, images
from tfhelpers import load_module, locals_of

from deploy.__main__ import make_clients
from deploy.errors import DeployError

A, B, C = COMMITS[:3]


def assert_consistent(account, tag: str, families=tuple(FAMILIES)) -> None:
    """The tag parameter, the service and the families' latest revisions name the same release,
    so a settings-only `terraform apply` moves no image."""
    assert account.tag() == tag
    assert set(images(account.running()).values()) == {tag}
    for key in families:
        assert set(images(account.latest(key)).values()) == {tag}, key
    if families == tuple(FAMILIES):
        assert account.terraform.plan() == []


# ---- Where "previous" comes from ----


@pytest.mark.parametrize("rollout", ["NEVER", "FAILED"])
def test_a_retry_after_a_kill_mid_rollout_rolls_back_to_the_last_good_release(account, rollout):
    """A kill after UpdateService leaves the new tag in the parameter and the new revision on the
    service; the retry must still know the last good release, from ECS's COMPLETED deployment."""
    account.release(A)
    good = account.running()["taskDefinitionArn"]
    account.scheduler.rollout = "NEVER"
    account.kill_mid_rollout(B)
    assert account.tag() == B
    account.scheduler.rollout = rollout

    with pytest.raises(DeployError, match=f"rolled back to {good}"):
        account.release(B, push=False, deploy_timeout_seconds=60)

    assert account.running()["taskDefinitionArn"] == good
    assert_consistent(account, A)


def test_a_retry_after_a_kill_mid_rollback_finishes_the_rollback(account):
    account.release(A)
    good = account.running()["taskDefinitionArn"]
    account.scheduler.rollout = "NEVER"
    account.kill_mid_rollout(B)
    # The killed run had issued its rollback, but not restored the tag.
    account.ecs.update_service(cluster=account.settings(A).cluster, service=account.settings(A).service,
                               taskDefinition=good)

    with pytest.raises(DeployError, match="rolled back"):
        account.release(B, push=False, deploy_timeout_seconds=60)

    assert account.running()["taskDefinitionArn"] == good
    assert account.tag() == A


# ---- Every failure after UpdateService puts the service back first ----


@pytest.mark.parametrize(("operation", "after"), [
    ("DescribeServices", "UpdateService"),  # a poll of the rollout is refused
    ("DescribeTaskDefinition", "UpdateService"),  # reading the new revision's images
    ("RegisterTaskDefinition", "UpdateService"),  # a job revision, after the rollout completed
])
def test_any_error_after_the_update_service_rolls_the_service_back_before_the_tag(account, operation, after):
    account.release(A)
    good = account.running()["taskDefinitionArn"]
    account.faults.plan(operation, "AccessDeniedException", after=after)

    with pytest.raises(DeployError, match=f"AccessDenied.*; rolled back to {good}") as caught:
        account.release(B)

    assert "\n" not in str(caught.value)
    assert account.faults.left() == 0
    assert account.running()["taskDefinitionArn"] == good
    assert_consistent(account, A)
    # A settings-only apply afterwards keeps the last good image.
    account.terraform.apply(setting="two")
    account.scheduler.step()
    assert images(account.running()) == {"app": A, "proxy": A}


def test_a_failed_rollback_is_one_line_and_leaves_the_new_release_whole_for_a_retry(account):
    account.release(A)
    good = account.running()["taskDefinitionArn"]
    account.scheduler.rollout = "NEVER"
    # The rollout times out, and the rollback's UpdateService (the second) is refused.
    account.faults.plan("UpdateService", "AccessDeniedException", after="UpdateService")

    with pytest.raises(DeployError, match="rolling back to .* failed too") as caught:
        account.release(B, deploy_timeout_seconds=60)

    assert "\n" not in str(caught.value) and f"stay on {B}" in str(caught.value)
    # Nothing half-undone: the service, the tag and the revisions it used still say B, so no apply
    # moves the service back (the jobs, never reached, get B's image from the next apply).
    assert_consistent(account, B, families=("service", "migrate"))

    with pytest.raises(DeployError, match=f"rolled back to {good}"):  # the retry can roll back
        account.release(B, push=False, deploy_timeout_seconds=60)
    assert account.running()["taskDefinitionArn"] == good
    assert_consistent(account, A)


# ---- The build's own timeout ----


def release_timeout_minutes(migrate: int, deploy: int, bake: int = 0) -> int:
    """The deploy CodeBuild project's timeout, as modules/codepipeline computes it."""
    values = locals_of(load_module("codepipeline"))
    assert values["projects"]["deploy"]["timeout"] == "${local.release_timeout}"
    expression = values["release_timeout"].removeprefix("${").removesuffix("}")
    names = {"var.migrate_timeout": migrate, "var.deploy_timeout": deploy, "var.bake_time_minutes": bake,
             "local.release_margin_minutes": values["release_margin_minutes"]}
    arithmetic = re.sub(r"[a-z_]+\.[a-z_]+", lambda m: str(names[m.group(0)]), expression)
    assert re.fullmatch(r"[0-9 +*()]+", arithmetic), arithmetic
    return eval(arithmetic)  # noqa: S307 - digits, spaces, parentheses, + and * only


@pytest.mark.parametrize(("migrate", "deploy"), [(3, 2), (2, 5)])
def test_the_slowest_failing_release_ends_before_codebuild_stops_it(account, migrate, deploy):
    """A migration that takes almost its whole timeout, a rollout without a verdict, a rollback
    without one either: the program still ends, having rolled back, with 5 minutes of the
    build's timeout to spare for provisioning and the install phase."""
    account.release(A)
    start = account.now
    poll = account.settings(B).poll_seconds
    account.scheduler.migrate_steps = int(migrate * 60 / poll) - 1
    account.scheduler.rollout = "NEVER"

    with pytest.raises(DeployError, match="rolled back to .* did not complete"):
        account.release(B, migrate_timeout_seconds=migrate * 60, deploy_timeout_seconds=deploy * 60)

    assert account.tag() == A
    assert account.now - start <= (release_timeout_minutes(migrate, deploy) - 5) * 60
    assert account.now - start >= (migrate - 1 + 2 * deploy) * 60  # it did wait out each step


# ---- Throttling ----


def test_throttled_polls_are_retried_not_fatal(account, monkeypatch):
    """The program's own clients (python -m deploy) back off and retry a throttled call; more
    throttles in a row than botocore's legacy default of 5 attempts allows."""
    monkeypatch.setattr("time.sleep", lambda seconds: None)  # botocore's backoff between attempts
    clients = make_clients(boto3.session.Session(region_name=REGION))
    account.faults.attach(clients.ecs, clients.ecr, clients.ssm)
    for operation in ("DescribeServices", "DescribeTasks"):
        account.faults.plan(operation, "ThrottlingException", times=6, after="RunTask")

    account.release(A, clients=clients)

    assert account.faults.left() == 0
    assert_consistent(account, A)


# ---- The migration task ----


def test_a_migration_task_not_yet_visible_is_waited_for(account):
    missing = {"tasks": [], "failures": [{"arn": "arn:aws:ecs:task/x", "reason": "MISSING"}]}
    account.faults.plan("DescribeTasks", missing, times=3)

    account.release(A)

    assert account.faults.left() == 0
    assert_consistent(account, A)


@pytest.mark.parametrize("answer", ["AccessDeniedException", "MISSING forever"])
def test_any_error_after_run_task_stops_the_migration_task(account, answer):
    account.release(A)
    if answer == "MISSING forever":
        missing = {"tasks": [], "failures": [{"arn": "arn:aws:ecs:task/x", "reason": "MISSING"}]}
        account.faults.plan("DescribeTasks", missing, times=10**6)
    else:
        account.faults.plan("DescribeTasks", answer)
    account.scheduler.migrate_exit_code = None  # the task would run on

    with pytest.raises((DeployError, ClientError), match="migrate: |AccessDenied"):
        account.release(B)

    latest = account.migration_tasks()[-1]
    assert latest.last_status == "STOPPED"
    assert_consistent(account, A)
