"""One release, in the order that keeps the running system consistent at every step.

1. Both images of the commit exist in ECR (the Build stage pushed them); otherwise stop here.
2. Migrate: a revision of the migrate family with the new app image runs once, on FARGATE (not
   Spot, so no interruption cuts it short); anything but exit code 0 in the app container stops
   the release with nothing deployed, and that revision is deregistered again.
3. Publish the tag in the image-tag parameter. From here on every revision Terraform registers
   carries the new images, so an apply during the rollout cannot revert it.
4. Roll out the service: a revision of its family's latest (Terraform's settings) with the new
   images; wait until ECS reports the deployment COMPLETED. FAILED (the circuit breaker rolled
   back) or no result within the timeout (this program rolls back) restores the previous tag and
   deregisters this run's revisions, so Terraform's next plan sees the last good release.
5. Scheduled jobs: a revision of each job family with the new image; EventBridge Scheduler runs
   a family's latest ACTIVE revision.

Every step is idempotent: a retried release of the same commit reuses the revisions that already
carry its images and registers nothing new.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import DeployError
from .revisions import Revision, TaskDefinitions
from .settings import Settings


@dataclass
class Clients:
    ecs: Any
    ecr: Any
    ssm: Any


class Release:
    def __init__(
        self,
        settings: Settings,
        clients: Clients,
        log: Callable[[str], None] = print,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.clients = clients
        self.revisions = TaskDefinitions(clients.ecs)
        self.log = log
        self.sleep = sleep
        self.clock = clock

    # ---- The release ----------------------------------------------------------------------

    def run(self) -> None:
        s = self.settings
        self.log(f"release {s.commit}: {', '.join(f'{n}={i}' for n, i in sorted(s.images.items()))}")
        self.check_images_exist()
        previous_tag = self.clients.ssm.get_parameter(Name=s.image_tag_parameter)["Parameter"]["Value"]

        migrate = self.revisions.with_images(s.migrate_family, s.images, s.app_container)
        try:
            self.migrate(migrate.arn)
        except Exception:  # a failed step or a failed AWS call: undo, then report
            self.revisions.deregister(migrate)
            raise

        self.publish_tag(s.commit)
        service: Revision | None = None
        try:
            service = self.revisions.with_images(s.service_family, s.images, s.app_container)
            self.roll_out(service.arn)
        except Exception:
            self.publish_tag(previous_tag)
            for revision in (service, migrate):
                if revision is not None:
                    self.revisions.deregister(revision)
            raise

        for family in s.job_families:
            job = self.revisions.with_images(family, s.images, s.app_container)
            self.log(f"job {family}: {self.describe(job)}")
        self.log(f"release {s.commit}: done")

    # ---- Steps ----------------------------------------------------------------------------

    def check_images_exist(self) -> None:
        for container, url in sorted(self.settings.repositories.items()):
            repository, tag = url.split("/", 1)[1], self.settings.commit
            try:
                self.clients.ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
            except self.clients.ecr.exceptions.ImageNotFoundException:
                raise DeployError(f"image {url}:{self.settings.commit} of container {container!r} is not in ECR "
                                  "(did the Build stage push it?)") from None

    def migrate(self, arn: str) -> None:
        s = self.settings
        self.log(f"migrate: running {arn}")
        started = self.clients.ecs.run_task(
            cluster=s.cluster,
            taskDefinition=arn,
            launchType="FARGATE",
            count=1,
            startedBy=f"deploy-{s.commit[:12]}",
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": list(s.subnets), "securityGroups": list(s.security_groups), "assignPublicIp": "DISABLED",
            }},
            propagateTags="TASK_DEFINITION",
            enableECSManagedTags=True,
        )
        if not started.get("tasks"):
            raise DeployError(f"migrate: the task did not start: {started.get('failures')}")
        task_arn = started["tasks"][0]["taskArn"]

        def stopped() -> dict[str, Any] | None:
            task = self.clients.ecs.describe_tasks(cluster=s.cluster, tasks=[task_arn])["tasks"][0]
            return task if task["lastStatus"] == "STOPPED" else None

        task = self.wait(stopped, s.migrate_timeout_seconds)
        if task is None:
            self.clients.ecs.stop_task(cluster=s.cluster, task=task_arn, reason="deploy: migration timed out")
            minutes = s.migrate_timeout_seconds // 60
            raise DeployError(f"migrate: {task_arn} did not stop within {minutes} minutes; stopped it")
        exit_code = next((c.get("exitCode") for c in task["containers"] if c["name"] == s.app_container), None)
        if exit_code != 0:
            reason = task.get("stoppedReason") or "unknown"
            code = "no exit code" if exit_code is None else exit_code
            raise DeployError(f"migrate: {task_arn} exited with {code} ({reason}); nothing was deployed")
        self.log("migrate: exit code 0")

    def publish_tag(self, tag: str) -> None:
        self.clients.ssm.put_parameter(Name=self.settings.image_tag_parameter, Value=tag, Type="String", Overwrite=True)
        self.log(f"image tag parameter {self.settings.image_tag_parameter} = {tag}")

    def roll_out(self, arn: str) -> None:
        s = self.settings
        previous = self.service()["taskDefinition"]
        if previous != arn:
            self.clients.ecs.update_service(cluster=s.cluster, service=s.service, taskDefinition=arn)
        self.log(f"service {s.service}: deploying {arn}")
        wanted = self.revisions.images_of(arn)

        def settled() -> str | None:
            deployments = self.service()["deployments"]
            ours = next((d for d in deployments if d["taskDefinition"] == arn), None)
            if ours is None:
                # Superseded, e.g. by a `terraform apply` that registered the same images with
                # newer settings: follow the primary deployment if it deploys this release.
                ours = next((d for d in deployments if d["status"] == "PRIMARY"), None)
                if ours is None:
                    return "gone: the service has no primary deployment"
                if self.revisions.images_of(ours["taskDefinition"]) != wanted:
                    return f"replaced by {ours['taskDefinition']}, which runs other images"
            state = ours.get("rolloutState")
            if state == "COMPLETED" and ours["status"] == "PRIMARY":
                return "COMPLETED"
            if state == "FAILED":
                return f"FAILED: {ours.get('rolloutStateReason', 'no reason given')}"
            return None

        outcome = self.wait(settled, s.deploy_timeout_seconds)
        if outcome == "COMPLETED":
            self.log(f"service {s.service}: deployment completed")
            return
        if outcome is None:
            # No verdict in time: go back to the revision that ran before, so what runs and
            # what the tag parameter says agree again.
            self.clients.ecs.update_service(cluster=s.cluster, service=s.service, taskDefinition=previous)
            raise DeployError(f"service {s.service}: no stable deployment within {s.deploy_timeout_seconds // 60} "
                              f"minutes; rolled back to {previous}")
        raise DeployError(f"service {s.service}: deployment {outcome}")

    # ---- Helpers --------------------------------------------------------------------------

    def service(self) -> dict[str, Any]:
        found = self.clients.ecs.describe_services(cluster=self.settings.cluster, services=[self.settings.service])
        if not found["services"] or found["services"][0]["status"] != "ACTIVE":
            raise DeployError(f"service {self.settings.service}: not found in cluster {self.settings.cluster}")
        return found["services"][0]

    def wait(self, done: Callable[[], Any], timeout: float) -> Any:
        """Poll `done` until it returns something other than None, or give up after `timeout` seconds."""
        deadline = self.clock() + timeout
        while True:
            result = done()
            if result is not None:
                return result
            if self.clock() >= deadline:
                return None
            self.sleep(self.settings.poll_seconds)

    @staticmethod
    def describe(revision: Revision) -> str:
        return f"registered {revision.arn}" if revision.registered else f"already at {revision.arn}"
