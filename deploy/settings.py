"""What one release needs to know, read from the environment the CodeBuild project sets."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import SettingsError

COMMIT = re.compile(r"^[0-9a-f]{40}$")
FAMILY = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
# ECR repository URL: <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<name>
# The load balancer's blue/green test listener: https://<host>[:<port>], no path.
SMOKE_TEST_URL = re.compile(r"^https://[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
REPOSITORY_URL = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*$")


@dataclass(frozen=True)
class Settings:
    cluster: str
    service: str
    service_family: str
    migrate_family: str
    job_families: tuple[str, ...]
    subnets: tuple[str, ...]
    security_groups: tuple[str, ...]
    # Container name -> ECR repository URL (no tag): every container the release swaps.
    repositories: dict[str, str]
    # The container that runs the app (the migration's exit code is read from it).
    app_container: str
    image_tag_parameter: str
    commit: str
    migrate_timeout_seconds: int
    deploy_timeout_seconds: int
    # Blue/green services only: the test listener the smoke test checks the new revision on.
    smoke_test_url: str | None = None
    poll_seconds: float = 10.0

    @property
    def images(self) -> dict[str, str]:
        """Container name -> image this release deploys."""
        return {name: f"{url}:{self.commit}" for name, url in self.repositories.items()}

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        def need(name: str) -> str:
            value = environ.get(name, "").strip()
            if not value:
                raise SettingsError(f"{name}: not set")
            return value

        def words(name: str, separator: str | None) -> tuple[str, ...]:
            return tuple(w.strip() for w in environ.get(name, "").split(separator) if w.strip())

        def minutes(name: str, default: int) -> int:
            raw = environ.get(name, "").strip() or str(default)
            if not raw.isdigit() or not 1 <= int(raw) <= 240:
                raise SettingsError(f"{name}: {raw!r} is not a whole number of minutes from 1 to 240")
            return int(raw) * 60

        # CodePipeline passes the source commit; a CodeBuild run outside the pipeline has its own.
        commit = environ.get("COMMIT_ID", "").strip() or environ.get("CODEBUILD_RESOLVED_SOURCE_VERSION", "").strip()
        if not COMMIT.match(commit):
            raise SettingsError(f"COMMIT_ID: {commit!r} is not a full 40-character commit SHA")
        app_container = need("APP_CONTAINER_NAME")
        proxy_container = need("PROXY_CONTAINER_NAME")
        repositories = {app_container: need("APP_REPOSITORY_URL"), proxy_container: need("PROXY_REPOSITORY_URL")}
        for name, url in repositories.items():
            if not REPOSITORY_URL.match(url):
                raise SettingsError(f"repository URL of container {name!r}: {url!r} is not an ECR repository URL")
        families = {name: need(name) for name in ("SERVICE_TASK_FAMILY", "MIGRATE_TASK_FAMILY")}
        jobs = words("JOB_TASK_FAMILIES", None)
        for name, family in [*families.items(), *(("JOB_TASK_FAMILIES", f) for f in jobs)]:
            if not FAMILY.match(family):
                raise SettingsError(f"{name}: {family!r} is not a task definition family")
        subnets = words("SUBNET_IDS", ",")
        if not subnets:
            raise SettingsError("SUBNET_IDS: not set")
        parameter = need("IMAGE_TAG_PARAMETER")
        if not parameter.startswith("/"):
            raise SettingsError(f"IMAGE_TAG_PARAMETER: {parameter!r} is not a parameter path")
        smoke_test_url = environ.get("SMOKE_TEST_URL", "").strip() or None
        if smoke_test_url is not None and not SMOKE_TEST_URL.match(smoke_test_url):
            raise SettingsError(f"SMOKE_TEST_URL: {smoke_test_url!r} is not https://<host>[:<port>] without a path")
        return cls(
            cluster=need("CLUSTER_NAME"),
            service=need("SERVICE_NAME"),
            service_family=families["SERVICE_TASK_FAMILY"],
            migrate_family=families["MIGRATE_TASK_FAMILY"],
            job_families=jobs,
            subnets=subnets,
            security_groups=(need("SECURITY_GROUP_ID"),),
            repositories=repositories,
            app_container=app_container,
            image_tag_parameter=parameter,
            commit=commit,
            migrate_timeout_seconds=minutes("MIGRATE_TIMEOUT_MINUTES", 30),
            deploy_timeout_seconds=minutes("DEPLOY_TIMEOUT_MINUTES", 30),
            smoke_test_url=smoke_test_url,
        )
