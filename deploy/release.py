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
   images; wait until ECS reports the deployment COMPLETED. A BLUE_GREEN service (its
   deploymentConfiguration.strategy, read from ECS) is followed through its service deployment
   instead (bluegreen.py): once the test listener serves the new revision, ECS holds the
   deployment for the service's Lambda lifecycle hook (smoke_hook.py, modules/ecs), which
   smoke-tests it from the private subnets and answers SUCCEEDED or FAILED (ECS then rolls back
   by itself). The release runs the same check as a task (smoke.py) while the hook holds the
   deployment, for its own log and for a service without the hook; ECS then moves production
   traffic and bakes, and the release waits for SUCCESSFUL. If the service deployment pauses at
   a PAUSE lifecycle hook, the smoke task's verdict answers it (ContinueServiceDeployment CONTINUE
   or ROLLBACK); a service with neither hook does not wait for the verdict, which then lands
   within the bake time.
5. Scheduled jobs: a revision of each job family with the new image; EventBridge Scheduler runs
   a family's latest ACTIVE revision. Then the mark leaves every image but this release's and
   the last good one's.

Any failure after step 3 (FAILED by the circuit breaker, no verdict within the timeout, an AWS
error, a failed smoke test) rolls back, in this order: the service is put back on the last good
revision (the UpdateService is issued before anything else changes; a blue/green deployment still
under way is stopped with StopServiceDeployment ROLLBACK instead, which moves production traffic
back at once to the old revision, still running during the bake time), then the tag parameter is restored and
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
from datetime import UTC, datetime, timedelta
from typing import Any

from . import smoke
from .bluegreen import DONE, GIVEN_UP, STOPPING, ServiceDeployments, State
from .errors import DeployError
from .images import Images
from .revisions import Revision, TaskDefinitions
from .settings import Settings

# RunTask's task can be missing from DescribeTasks for a moment: ECS is eventually consistent
# ("Run the DescribeTasks command using an exponential backoff algorithm", RunTask API reference).
VISIBILITY_SECONDS = 120
# ListServiceDeployments' createdAt filter is compared with ECS's clock, not this machine's.
CLOCK_SKEW = timedelta(minutes=2)


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
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.clients = clients
        self.revisions = TaskDefinitions(clients.ecs)
        self.images = Images(clients.ecr, settings.repositories)
        self.deployments = ServiceDeployments(clients.ecs, settings.cluster, settings.service)
        self.log = log
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.blue_green = False
        self.bake_minutes = 0
        self.migrate_arn = ""  # this release's migration revision, which the smoke test runs too
        self.in_flight: str | None = None  # a blue/green service deployment of ours not yet over

    # ---- The release ----------------------------------------------------------------------

    def run(self) -> None:
        s = self.settings
        self.log(f"release {s.commit}: {', '.join(f'{n}={i}' for n, i in sorted(s.images.items()))}")
        self.images.check_exist(s.commit)
        self.read_strategy()
        last_good = self.last_good()
        self.log(f"last good release: {last_good.tag} ({last_good.arn})")
        self.images.mark(last_good.tag)
        # Revisions that carry this release's images: undone on failure, unless they are the
        # last good release's own (a retried release of the deployed commit).
        used: list[Revision] = []

        migrate = self.revisions.with_images(s.migrate_family, s.images, s.app_container)
        used.append(migrate)
        self.migrate_arn = migrate.arn
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

    def read_strategy(self) -> None:
        """ROLLING or BLUE_GREEN, as the service is configured (Terraform sets it per environment)."""
        config = self.service().get("deploymentConfiguration") or {}
        strategy = config.get("strategy") or "ROLLING"
        if strategy not in ("ROLLING", "BLUE_GREEN"):
            raise DeployError(f"service {self.settings.service}: deployment strategy {strategy} is not one this "
                              "program follows (ROLLING, BLUE_GREEN)")
        self.blue_green = strategy == "BLUE_GREEN"
        self.bake_minutes = int(config.get("bakeTimeInMinutes") or 0) if self.blue_green else 0
        if self.blue_green and not self.settings.smoke_test_url:
            raise DeployError(f"service {self.settings.service} deploys BLUE_GREEN, but SMOKE_TEST_URL (the load "
                              "balancer's test listener) is not set: nothing would check the new revision")
        self.log(f"deployment strategy: {strategy}" + (f", bake time {self.bake_minutes} minutes" if self.blue_green
                                                        else ""))

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
        task = self.one_off("migrate", arn, f"deploy-{s.commit[:12]}", s.migrate_timeout_seconds)
        exit_code = self.exit_code(task)
        if exit_code != 0:
            reason = task.get("stoppedReason") or "unknown"
            code = "no exit code" if exit_code is None else exit_code
            raise DeployError(f"migrate: {task['taskArn']} exited with {code} ({reason}); nothing was deployed")
        self.log("migrate: exit code 0")

    def smoke_test(self, service_arn: str) -> None:
        """The new revision through the test listener, from a task in the private subnets (smoke.py)."""
        s = self.settings
        url = s.smoke_test_url
        assert url is not None  # read_strategy refuses a blue/green release without it
        overrides = {
            # The service's task role: the migration's own reads the database master credentials.
            "taskRoleArn": self.revisions.task_role_of(service_arn),
            "containerOverrides": [{"name": s.app_container, "command": smoke.command(url)}],
        }
        self.log(f"smoke test: {url} ({', '.join(smoke.PATHS)})")
        task = self.one_off("smoke test", self.migrate_arn, f"smoke-{s.commit[:12]}",
                            smoke.CONTAINER_TIMEOUT_SECONDS, overrides)
        exit_code = self.exit_code(task)
        if exit_code != 0:
            code = "no exit code" if exit_code is None else exit_code
            raise DeployError(f"smoke test: {url} failed ({task['taskArn']} exited with {code}; its log says which "
                              "path answered what)")
        self.log("smoke test: passed")

    def one_off(self, what: str, arn: str, started_by: str, timeout: int,
                overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one task of `arn` on FARGATE (not Spot, so no interruption cuts it short) in the
        service's network and return it once STOPPED; stopped again if anything goes wrong."""
        s = self.settings
        started = self.clients.ecs.run_task(
            cluster=s.cluster,
            taskDefinition=arn,
            launchType="FARGATE",
            count=1,
            startedBy=started_by,
            networkConfiguration={"awsvpcConfiguration": {
                "subnets": list(s.subnets), "securityGroups": list(s.security_groups), "assignPublicIp": "DISABLED",
            }},
            propagateTags="TASK_DEFINITION",
            enableECSManagedTags=True,
            **({"overrides": overrides} if overrides else {}),
        )
        if not started.get("tasks"):
            raise DeployError(f"{what}: the task did not start: {started.get('failures')}")
        task_arn = started["tasks"][0]["taskArn"]
        try:
            return self.wait_for_task(task_arn, what, timeout)
        except BaseException as exc:
            self.stop_task(task_arn, what, exc)
            raise

    def exit_code(self, task: dict[str, Any]) -> int | None:
        return next((c.get("exitCode") for c in task["containers"] if c["name"] == self.settings.app_container), None)

    def wait_for_task(self, task_arn: str, what: str, timeout: int) -> dict[str, Any]:
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
                raise DeployError(f"{what}: DescribeTasks does not know {task_arn}: {found.get('failures')}")
            seen = True
            task = found["tasks"][0]
            return task if task["lastStatus"] == "STOPPED" else None

        task = self.wait(stopped, timeout)
        if task is None:
            raise DeployError(f"{what}: {task_arn} did not stop within {timeout // 60} minutes")
        return task

    def stop_task(self, task_arn: str, what: str, cause: BaseException) -> None:
        try:
            self.clients.ecs.stop_task(cluster=self.settings.cluster, task=task_arn,
                                       reason=f"deploy: {one_line(cause)}"[:255])
            self.log(f"{what}: stopped {task_arn}")
        except Exception as exc:
            raise DeployError(f"{one_line(cause)}; stopping {task_arn} failed too ({one_line(exc)}): "
                              "stop it in the ECS console before retrying") from exc

    def publish_tag(self, tag: str) -> None:
        self.clients.ssm.put_parameter(Name=self.settings.image_tag_parameter, Value=tag, Type="String", Overwrite=True)
        self.log(f"image tag parameter {self.settings.image_tag_parameter} = {tag}")

    def roll_out(self, arn: str) -> None:
        s = self.settings
        since = self.now() - CLOCK_SKEW
        if self.service()["taskDefinition"] != arn:
            self.clients.ecs.update_service(cluster=s.cluster, service=s.service, taskDefinition=arn)
        self.log(f"service {s.service}: deploying {arn}")
        if self.blue_green:
            self.roll_out_blue_green(arn, since)
            return
        outcome = self.watch(arn)
        if outcome == "COMPLETED":
            self.log(f"service {s.service}: deployment completed")
            return
        if outcome is None:
            raise DeployError(f"service {s.service}: no stable deployment within {s.deploy_timeout_seconds // 60} "
                              "minutes")
        raise DeployError(f"service {s.service}: deployment {outcome}")

    def roll_out_blue_green(self, arn: str, since: datetime) -> None:
        """Follow the service deployment of `arn`: smoke-test the new revision as soon as the test
        listener serves it, then wait for SUCCESSFUL (after the bake time)."""
        s = self.settings
        deployment = self.find_deployment(arn, since)
        self.in_flight = deployment
        smoked = False

        def settled() -> State | None:
            nonlocal smoked
            state = self.deployments.state(deployment)
            if state.status == DONE or state.status in GIVEN_UP | STOPPING:
                return state
            if not smoked and (state.testable or state.paused_hook):
                smoked = True
                self.smoke_test(arn)  # a failure raises: roll_back stops the deployment
                if state.paused_hook:
                    self.deployments.resume(state, "CONTINUE")
                    self.log(f"service {s.service}: production traffic may move (hook {state.paused_hook} continued)")
            return None

        state = self.wait(settled, self.rollout_seconds())
        if state is None:
            raise DeployError(f"service {s.service}: deployment {deployment} not SUCCESSFUL within "
                              f"{self.rollout_seconds() // 60} minutes")
        if state.status != DONE:
            raise DeployError(f"service {s.service}: deployment {state.describe()}")
        self.in_flight = None
        if not smoked:  # the bake passed between two polls: check what now serves production
            self.smoke_test(arn)
        self.log(f"service {s.service}: deployment completed")

    def find_deployment(self, arn: str, since: datetime) -> str:
        found = self.wait(lambda: self.deployments.find(arn, since), VISIBILITY_SECONDS)
        if found is None:
            raise DeployError(f"service {self.settings.service}: no service deployment of {arn} appeared within "
                              f"{VISIBILITY_SECONDS} seconds")
        return found

    def rollout_seconds(self) -> int:
        """How long a rollout may take: the deploy timeout, plus the bake time of a blue/green one."""
        return self.settings.deploy_timeout_seconds + 60 * self.bake_minutes

    def roll_back(self, last_good: LastGood, used: list[Revision], marked: bool, cause: BaseException) -> None:
        """Put the service back on the last good revision, then the tag, then the revisions."""
        s = self.settings
        reason = one_line(cause)
        since = self.now() - CLOCK_SKEW
        rolled_back_by_ecs = False
        try:
            if self.in_flight is not None:
                rolled_back_by_ecs = self.stop_in_flight(last_good)
            if not rolled_back_by_ecs and self.service()["taskDefinition"] != last_good.arn:
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
            if rolled_back_by_ecs or not last_good.completed:
                outcome: str | None = "COMPLETED"
            elif self.blue_green:
                outcome = self.watch_blue_green(last_good.arn, since)
            else:
                outcome = self.watch(last_good.arn)
        except Exception as exc:
            raise DeployError(f"{reason}; rolled back to {last_good.arn} (tag {last_good.tag} restored), but "
                              f"watching that rollout failed: {one_line(exc)}") from cause
        if outcome != "COMPLETED":
            verdict = outcome or f"did not complete within {self.rollout_seconds() // 60} minutes"
            raise DeployError(f"{reason}; rolled back to {last_good.arn} (tag {last_good.tag} restored), but that "
                              f"rollout {verdict}") from cause
        raise DeployError(f"{reason}; rolled back to {last_good.arn} (tag {last_good.tag} restored)") from cause

    def stop_in_flight(self, last_good: LastGood) -> bool:
        """Stop our blue/green deployment still under way with a rollback, which returns production
        traffic to the old revision at once (it runs until the bake time ends), and wait for ECS to
        finish it. True when ECS rolled back (nothing left to undo on the service)."""
        s = self.settings
        deployment = self.in_flight
        assert deployment is not None
        state = self.deployments.state(deployment)
        if state.status == DONE:
            return False
        if state.status not in GIVEN_UP | STOPPING:
            self.deployments.roll_back(deployment)
            self.log(f"service {s.service}: stopped deployment {deployment} with a rollback: production traffic "
                     f"returns to {last_good.arn}")
        final = self.wait(lambda: (lambda st: st if st.status in GIVEN_UP | {DONE} else None)(
            self.deployments.state(deployment)), s.deploy_timeout_seconds)
        if final is None:
            raise DeployError(f"deployment {deployment} still not rolled back after {s.deploy_timeout_seconds // 60} "
                              "minutes")
        if final.status == "ROLLBACK_FAILED":
            raise DeployError(f"deployment {deployment} {final.describe()}")
        self.in_flight = None
        return final.status == "ROLLBACK_SUCCESSFUL"

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

    def watch_blue_green(self, arn: str, since: datetime) -> str | None:
        """Wait for the blue/green deployment of `arn` (a rollback's, which needs no smoke test):
        "COMPLETED", another verdict, or None when the time runs out."""
        deployment = self.find_deployment(arn, since)

        def settled() -> str | None:
            state = self.deployments.state(deployment)
            if state.status == DONE:
                return "COMPLETED"
            return state.describe() if state.status in GIVEN_UP else None

        return self.wait(settled, self.rollout_seconds())

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
