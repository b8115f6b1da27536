"""The deploy program against an emulated account (see conftest.py): the five situations a
release meets, and the promise that holds across them: once an image has been deployed, no task
definition a task can start from carries the placeholder, and neither side reverts the other."""

from __future__ import annotations

import itertools

import pytest
from conftest import COMMITS, FAMILIES, PLACEHOLDER, environment, images

from deploy.errors import DeployError

A, B, C = COMMITS[:3]


def test_first_deploy_migrates_then_serves_and_schedules_the_new_images(account):
    lines = account.release(A)

    assert account.tag() == A
    assert images(account.running()) == {"app": A, "proxy": A}
    assert images(account.latest("job")) == {"app": A}
    # The migration ran once, from a revision carrying the new image, before the service moved.
    (migration,) = account.scheduler.migrations
    assert images(account.ecs.describe_task_definition(taskDefinition=migration)["taskDefinition"]) == {"app": A}
    assert lines.index("migrate: exit code 0") < next(i for i, line in enumerate(lines) if line.startswith("service"))
    # The settings Terraform applied are kept as they were.
    assert environment(account.running()) == {"SETTING": "one"}


def test_deploy_after_a_settings_apply_keeps_the_setting(account):
    account.release(A)
    assert account.terraform.apply(setting="two") == ["service", "migrate", "job"]
    # The apply itself reached the running service, with the deployed image.
    assert environment(account.running()) == {"SETTING": "two"}
    assert images(account.running()) == {"app": A, "proxy": A}

    account.release(B)

    assert environment(account.running()) == {"SETTING": "two"}
    assert images(account.running()) == {"app": B, "proxy": B}
    assert environment(account.latest("job")) == {"SETTING": "two"}


def test_apply_after_a_deploy_changes_nothing_and_never_reverts_the_image(account):
    account.release(A)

    assert account.terraform.plan() == []  # no perpetual diff
    account.terraform.apply(setting="two")
    for key in FAMILIES:
        assert images(account.latest(key))["app"] == A, key
    assert images(account.running()) == {"app": A, "proxy": A}
    assert account.terraform.plan() == []


@pytest.mark.parametrize("exit_code", [1, 137, None])
def test_failing_migration_deploys_nothing(account, exit_code):
    account.release(A)
    before = {key: account.latest(key)["taskDefinitionArn"] for key in FAMILIES}
    running = account.running()["taskDefinitionArn"]
    account.scheduler.migrate_exit_code = exit_code  # None: the task never stops

    with pytest.raises(DeployError, match="migrate: "):
        account.release(B)

    assert account.tag() == A
    assert account.running()["taskDefinitionArn"] == running
    assert {key: account.latest(key)["taskDefinitionArn"] for key in FAMILIES} == before
    # The failed migration's revision is deregistered, so nothing can start from it.
    (failed,) = account.revisions("migrate", status="INACTIVE")
    assert images(account.ecs.describe_task_definition(taskDefinition=failed)["taskDefinition"]) == {"app": B}
    assert account.terraform.plan() == []


def test_retried_release_of_the_same_commit_registers_nothing_new(account):
    account.release(A)
    counts = {key: len(account.revisions(key)) for key in FAMILIES}

    lines = account.release(A, push=False)

    assert {key: len(account.revisions(key)) for key in FAMILIES} == counts
    assert any(line.startswith("job ") and "already at" in line for line in lines)
    assert account.tag() == A
    assert images(account.running()) == {"app": A, "proxy": A}
    assert len(account.scheduler.migrations) == 2  # Django's migrate is idempotent; it runs again


def test_failed_rollout_restores_the_previous_release(account):
    account.release(A)
    running = account.running()["taskDefinitionArn"]
    account.scheduler.rollout = "FAILED"

    with pytest.raises(DeployError, match="circuit breaker"):
        account.release(B)

    assert account.tag() == A
    assert account.running()["taskDefinitionArn"] == running
    for key in ("service", "migrate"):
        assert images(account.latest(key))["app"] == A, key
    assert account.terraform.plan() == []


def test_rollout_without_a_verdict_is_rolled_back(account):
    account.release(A)
    running = account.running()["taskDefinitionArn"]
    account.scheduler.rollout = "NEVER"

    with pytest.raises(DeployError, match="rolled back"):
        account.release(B, deploy_timeout_seconds=60)

    assert account.running()["taskDefinitionArn"] == running
    assert account.tag() == A


def test_missing_image_stops_before_anything_runs(account):
    account.push(A, containers=("app",))
    with pytest.raises(DeployError, match=r"proxy.*not in ECR"):
        account.release(A, push=False)
    assert account.scheduler.migrations == []
    assert account.tag() == PLACEHOLDER


def test_a_task_definition_without_the_app_container_is_refused(account):
    with pytest.raises(DeployError, match="no container named 'web'"):
        account.release(A, app_container="web", repositories={
            "web": account.settings(A).repositories["app"], "proxy": account.settings(A).repositories["proxy"]})
    assert account.tag() == PLACEHOLDER


STEPS = ["apply", "deploy", "failed-migration", "failed-rollout"]


@pytest.mark.parametrize("order", list(itertools.permutations(STEPS)))
def test_no_task_starts_from_the_placeholder_once_an_image_is_deployed(account, order):
    """Whatever order applies, releases and failures come in after the first release, every
    revision a task can start from (the service's, each family's latest ACTIVE) carries a
    released image, and the service runs what the tag parameter says."""
    account.release(A)
    commits = iter(COMMITS[1:])
    setting = itertools.count(2)
    for step in order:
        account.scheduler.migrate_exit_code, account.scheduler.rollout = 0, "COMPLETED"
        if step == "apply":
            account.terraform.apply(setting=f"s{next(setting)}")
            account.scheduler.step()  # ECS completes the rollout the apply started
        elif step == "deploy":
            account.release(next(commits))
        else:
            if step == "failed-migration":
                account.scheduler.migrate_exit_code = 1
            else:
                account.scheduler.rollout = "FAILED"
            with pytest.raises(DeployError):
                account.release(next(commits))
        tag = account.tag()
        assert tag != PLACEHOLDER
        for key in FAMILIES:
            assert set(images(account.latest(key)).values()) == {tag}, (step, key)
        assert set(images(account.running()).values()) == {tag}, step
        assert environment(account.running()) == {"SETTING": account.terraform.setting}, step
        assert account.terraform.plan() == [], step
