"""Settings of `python -m deploy` come from the CodeBuild project's environment: each missing or
malformed value is one line naming the variable."""

from __future__ import annotations

import pytest

from deploy.errors import SettingsError
from deploy.settings import Settings

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REGISTRY = "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com"
ENVIRONMENT = {
    "CLUSTER_NAME": "todo-dev-app-web-main-ecs",
    "SERVICE_NAME": "todo-dev-app-web-main-svc",
    "SERVICE_TASK_FAMILY": "todo-dev-app-web-main-task",
    "MIGRATE_TASK_FAMILY": "todo-dev-app-batch-migrate-task",
    "JOB_TASK_FAMILIES": "todo-dev-app-batch-purgedone-task todo-dev-app-batch-report-task",
    "SUBNET_IDS": "subnet-aaaa,subnet-bbbb",
    "SECURITY_GROUP_ID": "sg-1234",
    "APP_REPOSITORY_URL": f"{REGISTRY}/todo-dev-app-web-app-ecr",
    "PROXY_REPOSITORY_URL": f"{REGISTRY}/todo-dev-app-web-proxy-ecr",
    "APP_CONTAINER_NAME": "app",
    "PROXY_CONTAINER_NAME": "proxy",
    "IMAGE_TAG_PARAMETER": "/todo/dev/app/web/imagetag",
    "COMMIT_ID": COMMIT,
}


def test_a_complete_environment_gives_every_setting():
    settings = Settings.from_environment(ENVIRONMENT)
    assert settings.images == {
        "app": f"{REGISTRY}/todo-dev-app-web-app-ecr:{COMMIT}",
        "proxy": f"{REGISTRY}/todo-dev-app-web-proxy-ecr:{COMMIT}",
    }
    assert settings.job_families == ("todo-dev-app-batch-purgedone-task", "todo-dev-app-batch-report-task")
    assert settings.subnets == ("subnet-aaaa", "subnet-bbbb")
    assert settings.migrate_timeout_seconds == settings.deploy_timeout_seconds == 1800


def test_no_jobs_is_allowed():
    assert Settings.from_environment({**ENVIRONMENT, "JOB_TASK_FAMILIES": ""}).job_families == ()


def test_codebuild_source_version_stands_in_for_commit_id():
    environ = {k: v for k, v in ENVIRONMENT.items() if k != "COMMIT_ID"}
    assert Settings.from_environment({**environ, "CODEBUILD_RESOLVED_SOURCE_VERSION": COMMIT}).commit == COMMIT


@pytest.mark.parametrize("name", sorted(set(ENVIRONMENT) - {"JOB_TASK_FAMILIES"}))
def test_each_missing_variable_is_named(name):
    environ = {k: v for k, v in ENVIRONMENT.items() if k != name}
    with pytest.raises(SettingsError) as caught:
        Settings.from_environment(environ)
    assert str(caught.value).startswith(name) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("COMMIT_ID", "0123456789ab", "full 40-character commit SHA"),
        ("COMMIT_ID", "latest", "full 40-character commit SHA"),
        ("COMMIT_ID", COMMIT.upper(), "full 40-character commit SHA"),
        ("APP_REPOSITORY_URL", "docker.io/library/python", "not an ECR repository URL"),
        ("MIGRATE_TASK_FAMILY", "family:3", "not a task definition family"),
        ("JOB_TASK_FAMILIES", "ok bad/family", "not a task definition family"),
        ("IMAGE_TAG_PARAMETER", "imagetag", "not a parameter path"),
        ("DEPLOY_TIMEOUT_MINUTES", "0", "1 to 240"),
        ("MIGRATE_TIMEOUT_MINUTES", "ten", "1 to 240"),
    ],
)
def test_malformed_values_are_refused_with_the_reason(name, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_environment({**ENVIRONMENT, name: value})


def test_the_smoke_test_url_is_optional_and_only_a_bare_https_origin():
    assert Settings.from_environment(ENVIRONMENT).smoke_test_url is None
    given = Settings.from_environment({**ENVIRONMENT, "SMOKE_TEST_URL": "https://todo.example.com:8443"})
    assert given.smoke_test_url == "https://todo.example.com:8443"
    for bad in ("http://todo.example.com:8443", "https://todo.example.com:8443/healthz", "todo.example.com"):
        with pytest.raises(SettingsError, match="^SMOKE_TEST_URL: "):
            Settings.from_environment({**ENVIRONMENT, "SMOKE_TEST_URL": bad})
