"""One release, in the order that keeps the running system consistent at every step.

1. Both images of the commit exist in ECR (the Build stage pushed them); otherwise stop here.
   The last good release is read from the service, never from the image-tag parameter this
   program writes: the revision of its newest COMPLETED deployment (a new environment, whose
   placeholder never completed, falls back to the revision it runs). Its images get the
   lifecycle mark (images.py), so a rollback always finds them in ECR.
2. Migrate: a revision of the migrate family with the new app image runs once, on FARGATE (not
   Spot, so no interruption cuts it short); anything but exit code 0 in the app container stops
   the release with nothing deployed, and that revision is deregistered again. Whatever goes
   wrong once the task runs, the task is stopped before the error is reported.
3. Mark the new images and publish the tag in the image-tag parameter. From here on every
   revision Terraform registers carries the new images, so an apply during the rollout cannot
   revert it.
4. Roll out the service: a revision of its family's latest (Terraform's settings) with the new
   images; wait until ECS reports the deployment COMPLETED.
5. Scheduled jobs: a revision of each job family with the new image; EventBridge Scheduler runs
   a family's latest ACTIVE revision. Then the mark leaves every image but this release's and
   the last good one's.

Any failure after step 3 (FAILED by the circuit breaker, no verdict within the timeout, an AWS
error) rolls back, in this order: the service is put back on the last good revision (the
UpdateService is issued before anything else changes), then the tag parameter is restored and
this release's revisions are deregistered, so Terraform's next plan sees the last good release;
then the rollback's own rollout is awaited. If the rollback itself fails, the service, the tag
and the revisions stay on the new release (they agree, so no apply reverts anything) and the
error says so; a retried release starts again from the last good revision ECS reports.

Every step is idempotent: a retried release of the same commit reuses the revisions that already
carry its images and registers nothing new.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import DeployError
from .images import Images
from .revisions import Revision, TaskDefinitions
from .settings import Settings

# RunTask's task can be missing from DescribeTasks for a moment: ECS is eventually consistent
# ("Run the DescribeTasks command using an exponential backoff algorithm", RunTask API reference).
VISIBILITY_SECONDS = 120


@dataclass
class Clients:
    ecs: Any
    ecr: Any
    ssm: Any


@dataclass(frozen=True)
class LastGood:
    """The release a failure returns to: the service revision and the image tag it carries."""

    arn: str
    tag: str
    completed: bool  # False: a new environment's placeholder, which never ran


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
        self.images = Images(clients.ecr, settings.repositories)
        self.log = log
        self.sleep = sleep
        self.clock = clock

    # ---- The release ----------------------------------------------------------------------

    def run(self) -> None:
        s = self.settings
        self.log(f"release {s.commit}: {', '.join(f'{n}={i}' for n, i in sorted(s.images.items()))}")
        self.images.check_exist(s.commit)
        last_good = self.last_good()
        self.log(f"last good release: {last_good.tag} ({last_good.arn})")
        self.images.mark(last_good.tag)
        # Revisions that carry this release's images: undone on failure, unless they are the
        # last good release's own (a retried release of the deployed commit).
        used: list[Revision] = []

        migrate = self.revisions.with_images(s.migrate_family, s.images, s.app_container)
        used.append(migrate)
        try:
            self.migrate(migrate.arn)
        except BaseException:
            self.deregister(used, last_good)
            raise

        marked = self.images.mark(s.commit)
        self.publish_tag(s.commit)
        try:
            service = self.revisions.with_images(s.service_family, s.images, s.app_container)
            used.append(service)
            self.roll_out(service.arn)
            for family in s.job_families:
                job = self.revisions.with_images(family, s.images, s.app_container)
                used.append(job)
                self.log(f"job {family}: {self.describe(job)}")
        except BaseException as exc:
            self.roll_back(last_good, used, marked, exc)  # always raises

        try:
            removed = self.images.unmark_all_but({s.commit, last_good.tag})
            if removed:
                self.log(f"images no longer kept by the lifecycle mark: {', '.join(removed)}")
        except Exception as exc:  # the release stands; the next one removes stale marks again
            self.log(f"warning: could not remove old lifecycle marks: {one_line(exc)}")
        self.log(f"release {s.commit}: done")

    # ---- Steps ----------------------------------------------------------------------------

    def last_good(self) -> LastGood:
        """The revision of the service's newest COMPLETED deployment; without one (a new
        environment's placeholder never completes), the newest deployment of other images."""
        deployments = sorted(self.service()["deployments"], key=lambda d: d.get("createdAt") or 0, reverse=True)
        for deployment in deployments:
            if deployment.get("rolloutState") == "COMPLETED":
                return LastGood(deployment["taskDefinition"], self.tag_of(deployment["taskDefinition"]), True)
        for deployment in deployments:
            tag = self.tag_of(deployment["taskDefinition"])
            if tag != self.settings.commit:
                return LastGood(deployment["taskDefinition"], tag, False)
        raise DeployError(f"service {self.settings.service}: no deployment to fall back to if this release fails")

    def tag_of(self, arn: str) -> str:
        """The image tag of the app container of a revision (what the tag parameter said for it)."""
        app = self.settings.app_container
        images = self.revisions.images_of(arn)
        if app not in images:
            raise DeployError(f"task definition {arn}: no container named {app!r}")
        image, url = images[app], self.settings.repositories[app]
        if not image.startswith(url + ":"):
            raise DeployError(f"task definition {arn}: app image {image!r} is not a tag of {url}")
        return image[len(url) + 1:]

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
        try:
            task = self.wait_for_task(task_arn)
        except BaseException as exc:
            self.stop_migration(task_arn, exc)
            raise
        exit_code = next((c.get("exitCode") for c in task["containers"] if c["name"] == s.app_container), None)
        if exit_code != 0:
            reason = task.get("stoppedReason") or "unknown"
            code = "no exit code" if exit_code is None else exit_code
            raise DeployError(f"migrate: {task_arn} exited with {code} ({reason}); nothing was deployed")
        self.log("migrate: exit code 0")

    def wait_for_task(self, task_arn: str) -> dict[str, Any]:
        s = self.settings
        first_seen = self.clock()
        seen = False

        def stopped() -> dict[str, Any] | None:
            nonlocal seen
            found = self.clients.ecs.describe_tasks(cluster=s.cluster, tasks=[task_arn])
            if not found.get("tasks"):
                reasons = {f.get("reason") for f in found.get("failures", [])}
                if reasons <= {"MISSING"} and not seen and self.clock() - first_seen < VISIBILITY_SECONDS:
                    return None  # not visible yet
                raise DeployError(f"migrate: DescribeTasks does not know {task_arn}: {found.get('failures')}")
            seen = True
            task = found["tasks"][0]
            return task if task["lastStatus"] == "STOPPED" else None

        task = self.wait(stopped, s.migrate_timeout_seconds)
        if task is None:
            raise DeployError(f"migrate: {task_arn} did not stop within {s.migrate_timeout_seconds // 60} minutes")
        return task

    def stop_migration(self, task_arn: str, cause: BaseException) -> None:
        try:
            self.clients.ecs.stop_task(cluster=self.settings.cluster, task=task_arn,
                                       reason=f"deploy: {one_line(cause)}"[:255])
            self.log(f"migrate: stopped {task_arn}")
        except Exception as exc:
            raise DeployError(f"{one_line(cause)}; stopping {task_arn} failed too ({one_line(exc)}): "
                              "stop it in the ECS console before retrying") from exc

    def publish_tag(self, tag: str) -> None:
        self.clients.ssm.put_parameter(Name=self.settings.image_tag_parameter, Value=tag, Type="String", Overwrite=True)
        self.log(f"image tag parameter {self.settings.image_tag_parameter} = {tag}")

    def roll_out(self, arn: str) -> None:
        s = self.settings
        if self.service()["taskDefinition"] != arn:
            self.clients.ecs.update_service(cluster=s.cluster, service=s.service, taskDefinition=arn)
        self.log(f"service {s.service}: deploying {arn}")
        outcome = self.watch(arn)
        if outcome == "COMPLETED":
            self.log(f"service {s.service}: deployment completed")
            return
        if outcome is None:
            raise DeployError(f"service {s.service}: no stable deployment within {s.deploy_timeout_seconds // 60} "
                              "minutes")
        raise DeployError(f"service {s.service}: deployment {outcome}")

    def roll_back(self, last_good: LastGood, used: list[Revision], marked: bool, cause: BaseException) -> None:
        """Put the service back on the last good revision, then the tag, then the revisions."""
        s = self.settings
        reason = one_line(cause)
        try:
            if self.service()["taskDefinition"] != last_good.arn:
                self.clients.ecs.update_service(cluster=s.cluster, service=s.service, taskDefinition=last_good.arn)
        except Exception as exc:
            # The service may still run the new release: keep the tag and the revisions with it,
            # so no apply moves the service anywhere.
            raise DeployError(f"{reason}; rolling back to {last_good.arn} failed too ({one_line(exc)}): the service, "
                              f"the image tag parameter and the revisions stay on {s.commit}; retry the release, "
                              "which rolls back again if it fails") from cause
        self.log(f"service {s.service}: rolling back to {last_good.arn}")
        try:
            self.publish_tag(last_good.tag)
            self.deregister(used, last_good)
        except Exception as exc:
            raise DeployError(f"{reason}; rolled back to {last_good.arn}, but restoring the image tag parameter to "
                              f"{last_good.tag} failed ({one_line(exc)}): retry the release, or put that tag in "
                              f"{s.image_tag_parameter} before the next apply") from cause
        try:
            if marked:
                self.images.unmark(s.commit)
            outcome = self.watch(last_good.arn) if last_good.completed else "COMPLETED"
        except Exception as exc:
            raise DeployError(f"{reason}; rolled back to {last_good.arn} (tag {last_good.tag} restored), but "
                              f"watching that rollout failed: {one_line(exc)}") from cause
        if outcome != "COMPLETED":
            verdict = outcome or f"did not complete within {s.deploy_timeout_seconds // 60} minutes"
            raise DeployError(f"{reason}; rolled back to {last_good.arn} (tag {last_good.tag} restored), but that "
                              f"rollout {verdict}") from cause
        raise DeployError(f"{reason}; rolled back to {last_good.arn} (tag {last_good.tag} restored)") from cause

    def deregister(self, used: list[Revision], last_good: LastGood) -> None:
        """Deregister the revisions of this release, so each family's latest ACTIVE revision is the
        last good one's; those of a retried release of the deployed commit stay."""
        for revision in used:
            if revision.registered or last_good.tag != self.settings.commit:
                self.revisions.deregister(revision)

    # ---- Helpers --------------------------------------------------------------------------

    def watch(self, arn: str) -> str | None:
        """Wait for the deployment of `arn`: "COMPLETED", "FAILED: reason", another verdict, or
        None when the deploy timeout passes first."""
        wanted = self.revisions.images_of(arn)

        def settled() -> str | None:
            deployments = self.service()["deployments"]
            ours = next((d for d in deployments if d["taskDefinition"] == arn), None)
            if ours is None:
                # Superseded, e.g. by a `terraform apply` that registered the same images with
                # newer settings: follow the primary deployment if it deploys these images.
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

        return self.wait(settled, self.settings.deploy_timeout_seconds)

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


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
