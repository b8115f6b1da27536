"""An emulated account for the deploy program: moto's ECS, ECR and SSM, plus two doubles.

moto registers and describes task definitions, runs tasks and updates services, but its tasks
never stop by themselves and its services never finish a rollout. `Scheduler` plays that part of
ECS (a migration task stops with a chosen exit code; a deployment completes, fails with a
circuit-breaker rollback, or never settles); for a BLUE_GREEN service `BlueGreen`
(bluegreen_double.py, a declared stand-in for the service-deployment APIs moto lacks) plays the
service deployment, its traffic shifts and the smoke-test task. `Terraform` plays `terraform apply` on the task
definitions: the desired revision is the settings plus the image tag read from the parameter,
compared against the family's latest ACTIVE revision (track_latest), registered when different,
and the service follows it. `Faults` answers chosen AWS calls in AWS's place (throttling,
refusals, a task DescribeTasks does not know yet), and `Account.kill_mid_rollout` leaves what a
release killed after its UpdateService leaves.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from bluegreen_double import BlueGreen
from botocore.awsrequest import AWSResponse
from http_listener import Listener, serve
from moto import mock_aws
from moto.ecs.models import EC2ContainerServiceBackend, ecs_backends
from moto.moto_api import state_manager

from deploy.release import Clients, Release
from deploy.settings import Settings

ACCOUNT = "123456789012"
REGION = "ap-northeast-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
CLUSTER = "todo-dev-app-web-main-ecs"
SERVICE = "todo-dev-app-web-main-svc"
FAMILIES = {
    "service": "todo-dev-app-web-main-task",
    "migrate": "todo-dev-app-batch-migrate-task",
    "job": "todo-dev-app-batch-purgedone-task",
}
REPOSITORIES = {"app": "todo-dev-app-web-app-ecr", "proxy": "todo-dev-app-web-proxy-ecr"}
PARAMETER = "/todo/dev/app/web/imagetag"
SMOKE_TEST_URL = "https://todo.example.com:8443"
# The service and the jobs share the task role; the migration has its own (master credentials).
TASK_ROLES = {key: f"arn:aws:iam::{ACCOUNT}:role/todo-dev-app-web-{role}-role"
              for key, role in (("service", "task"), ("job", "task"), ("migrate", "migrate"))}
PLACEHOLDER = "bootstrap"
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
COMMITS = [f"{n:040x}" for n in (0xA1, 0xB2, 0xC3, 0xD4)]


SECRET_KEY_ARN = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/todo/dev/app/web/secret-key"


def manifest(commit: str, container: str) -> str:
    """The Docker v2 manifest the Build stage pushes for one container of a commit.

    It lists a layer because moto derives an image's digest from the layers' digests, and gives a
    manifest without layers sha256(str(randint(0, 100))): one of 101 values, so two builds could
    share a digest, which ECR never lets happen (the digest is that of the manifest), and the
    lifecycle evaluation (test_image_marks.py), which counts images by digest, miscounted them.
    """
    def blob(kind: str) -> str:
        return "sha256:" + hashlib.sha256(f"{kind} {container} {commit}".encode()).hexdigest()

    return json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1024,
                   "digest": blob("config")},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 4096,
                    "digest": blob("layer")}],
    })


def app_container(image: str, setting: str, command: list[str] | None = None) -> dict[str, Any]:
    # memoryReservation only because moto's RunTask needs a container-level memory figure.
    container = {"name": "app", "image": image, "essential": True, "memoryReservation": 256, "user": "10001",
                 "readonlyRootFilesystem": True, "environment": [{"name": "SETTING", "value": setting}],
                 "secrets": [{"name": "SECRET_KEY", "valueFrom": SECRET_KEY_ARN}]}
    if command:
        container["command"] = command
    return container


def equivalent(containers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Container definitions as the AWS provider compares them: registration adds defaults (cpu 0,
    empty lists) that the provider's equivalence check ignores."""
    return [{k: v for k, v in c.items() if v not in ([], {}, None) and not (k == "cpu" and v == 0)} for c in containers]


@dataclass
class Terraform:
    """`terraform apply` of the task definitions and the service, as the modules declare them."""

    ecs: Any
    ssm: Any
    setting: str = "one"
    applies: int = 0

    def desired(self) -> dict[str, list[dict[str, Any]]]:
        tag = self.ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"]
        image = {name: f"{REGISTRY}/{repo}:{tag}" for name, repo in REPOSITORIES.items()}
        return {
            "service": [{"name": "proxy", "image": image["proxy"], "essential": True, "memoryReservation": 64},
                        app_container(image["app"], self.setting)],
            "migrate": [app_container(image["app"], self.setting, ["python", "manage.py", "migrate", "--noinput"])],
            "job": [app_container(image["app"], self.setting, ["python", "manage.py", "purge_done_todos"])],
        }

    def latest(self, family: str) -> dict[str, Any] | None:
        arns = self.ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
        if not arns:
            return None
        newest = max(arns, key=lambda a: int(a.rsplit(":", 1)[1]))
        return self.ecs.describe_task_definition(taskDefinition=newest)["taskDefinition"]

    def plan(self, setting: str | None = None) -> list[str]:
        """The families whose task definition would be replaced."""
        if setting is not None:
            self.setting = setting
        changes = []
        for key, containers in self.desired().items():
            current = self.latest(FAMILIES[key])
            if current is None or equivalent(current["containerDefinitions"]) != equivalent(containers):
                changes.append(key)
        return changes

    def apply(self, setting: str | None = None) -> list[str]:
        changes = self.plan(setting)
        for key in changes:
            registered = self.ecs.register_task_definition(
                family=FAMILIES[key], networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
                memory="512", containerDefinitions=self.desired()[key], taskRoleArn=TASK_ROLES[key],
                tags=[{"key": "Env", "value": "dev"}, {"key": "ManagedBy", "value": "terraform"}],
            )["taskDefinition"]
            if key == "service":
                services = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"]
                if services:
                    arn = registered["taskDefinitionArn"]
                    self.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)
        self.applies += 1
        return changes


@dataclass
class Scheduler:
    """What ECS does between two polls that moto does not: stop tasks, finish rollouts."""

    migrate_exit_code: int | None = 0  # None: the task never stops
    migrate_steps: int = 1  # polls a migration task runs for before it stops
    rollout: str = "COMPLETED"  # COMPLETED | FAILED | NEVER
    migrations: list[str] = field(default_factory=list)  # task definition ARNs the migrations ran
    blue_green: BlueGreen | None = None
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _polled: dict[str, int] = field(default_factory=dict)  # task ARN -> steps seen running

    @property
    def backend(self) -> Any:
        return ecs_backends[ACCOUNT][REGION]

    def images_of(self, arn: str) -> dict[str, str]:
        return {c["name"]: c["image"] for c in self.backend.describe_task_definition(arn).container_definitions}

    def step(self) -> None:
        bg = self.blue_green if self.blue_green is not None and self.blue_green.enabled else None
        for task in self.backend.tasks.get(CLUSTER, {}).values():
            if bg is not None and task.started_by.startswith("smoke-") and task.status != "STOPPED":
                task.status = "STOPPED"
                task.containers[0].exitCode = bg.smoke(task, self.images_of)
                task.stopped_reason = "Essential container in task exited"
            if task.started_by.startswith("deploy-") and task.status != "STOPPED":
                if task.task_arn not in self._polled:
                    self.migrations.append(task.task_definition_arn)
                self._polled[task.task_arn] = self._polled.get(task.task_arn, 0) + 1
                if self.migrate_exit_code is not None and self._polled[task.task_arn] >= self.migrate_steps:
                    task.status = "STOPPED"
                    task.containers[0].exitCode = self.migrate_exit_code
                    task.stopped_reason = "Essential container in task exited"
        service = self.backend.services[f"{CLUSTER}:{SERVICE}"]
        if bg is not None:
            bg.step(service, self.rollout)
            return
        primary = next(d for d in service.deployments if d["status"] == "PRIMARY")
        if primary.get("rolloutState") != "IN_PROGRESS" or self.rollout == "NEVER":
            return
        if self.rollout == "COMPLETED":
            primary["rolloutState"] = "COMPLETED"
            service.deployments = [primary]
        else:
            # The circuit breaker gives up on the new revision and rolls back to the previous one.
            previous = next(d for d in service.deployments
                            if d["status"] == "ACTIVE" and d.get("rolloutState") == "COMPLETED")
            service.task_definition = previous["taskDefinition"]
            service.deployments = [
                {**previous, "status": "PRIMARY", "rolloutState": "COMPLETED"},
                {**primary, "status": "ACTIVE", "rolloutState": "FAILED",
                 "rolloutStateReason": "ECS deployment circuit breaker: tasks failed to start."},
            ]

    def updated(self, service: Any) -> None:
        """UpdateService with another revision starts a new PRIMARY deployment at once, the
        previous one stays ACTIVE until the new one completes (ECS's rolling update)."""
        primary = next(d for d in service.deployments if d["status"] == "PRIMARY")
        if primary["taskDefinition"] == service.task_definition:
            return
        if self.blue_green is not None and self.blue_green.enabled:
            self.blue_green.updated(service, primary["taskDefinition"])
        number = next(self._ids)
        new = {**primary, "id": f"ecs-svc/{number}", "taskDefinition": service.task_definition,
               "status": "PRIMARY", "rolloutState": "IN_PROGRESS",
               "createdAt": datetime.now(UTC) + timedelta(minutes=number)}
        # Earlier deployments stay until the new one completes (a rollback during a rollout
        # leaves three: the rollback, the interrupted one and the one that completed before).
        service.deployments = [new, *({**d, "status": "ACTIVE"} for d in service.deployments)]


class _Body:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


@dataclass
class Faults:
    """AWS's answer to chosen calls, given in its place.

    Each plan answers the next `times` attempts of one operation, once `after` (another
    operation) has been called since the plan was made, if given. A refusal (an error code) is
    given before the call reaches the emulator, so it changes nothing (botocore's before-call
    event). A throttle or a response body is given per attempt (before-send), where the client's
    retry handling sees it as it would see AWS's; the emulator still runs those calls, which is
    why only read-only operations get them.
    """

    plans: list[dict[str, Any]] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # operations called, in order

    def plan(self, operation: str, answer: str | dict[str, Any], times: int = 1, after: str | None = None) -> None:
        self.plans.append({"operation": operation, "answer": answer, "left": times, "after": after,
                           "since": len(self.seen), "per_attempt": answer == "ThrottlingException" or
                           isinstance(answer, dict)})

    def left(self) -> int:
        return sum(plan["left"] for plan in self.plans)

    def attach(self, *clients: Any) -> None:
        for client in clients:
            prefix = client.meta.service_model.service_id.hyphenize()
            client.meta.events.register_first(f"before-call.{prefix}", self._call)
            client.meta.events.register_first(f"before-send.{prefix}", self._attempt)

    def _due(self, operation: str, per_attempt: bool) -> Any:
        for plan in self.plans:
            if plan["operation"] == operation and plan["left"] and plan["per_attempt"] == per_attempt and (
                    plan["after"] is None or plan["after"] in self.seen[plan["since"]:-1]):
                plan["left"] -= 1
                return plan["answer"]
        return None

    def _call(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        self.seen.append(model.name)
        code = self._due(model.name, per_attempt=False)
        if code is None:
            return None
        error = {"Error": {"Code": code, "Message": f"{code} (injected)"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse("https://injected", 400, {}, _Body(b"")), error

    def _attempt(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        answer = self._due(event_name.rsplit(".", 1)[1], per_attempt=True)
        if answer is None:
            return None
        throttled = isinstance(answer, str)
        status, body = (400, {"__type": answer, "message": "Rate exceeded"}) if throttled else (200, answer)
        headers = {"x-amzn-RequestId": "injected", "Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, status, headers, _Body(json.dumps(body).encode()))


@dataclass
class Account:
    ecs: Any
    ecr: Any
    ssm: Any
    subnet: str
    security_group: str
    terraform: Terraform
    scheduler: Scheduler
    faults: Faults
    now: float = 0.0
    pushed: list[str] = field(default_factory=list)  # commits in the order their images were pushed

    def push(self, commit: str, containers: tuple[str, ...] = ("app", "proxy")) -> None:
        self.pushed.append(commit)
        for name in containers:
            self.ecr.put_image(repositoryName=REPOSITORIES[name], imageManifest=manifest(commit, name),
                               imageTag=commit, imageManifestMediaType=MANIFEST_TYPE)

    def settings(self, commit: str, **overrides: Any) -> Settings:
        values = dict(
            cluster=CLUSTER, service=SERVICE, service_family=FAMILIES["service"], migrate_family=FAMILIES["migrate"],
            job_families=(FAMILIES["job"],), subnets=(self.subnet,), security_groups=(self.security_group,),
            repositories={name: f"{REGISTRY}/{repo}" for name, repo in REPOSITORIES.items()}, app_container="app",
            image_tag_parameter=PARAMETER, commit=commit, migrate_timeout_seconds=600, deploy_timeout_seconds=600,
            smoke_test_url=SMOKE_TEST_URL if self.scheduler.blue_green and self.scheduler.blue_green.enabled else None,
        )
        values.update(overrides)
        return Settings(**values)

    def release(self, commit: str, push: bool = True, clients: Clients | None = None, **overrides: Any) -> list[str]:
        """Run one release of `commit`; return its log lines. Raises what the release raises."""
        if push:
            self.push(commit)
        lines: list[str] = []
        self.program(commit, lines, clients, **overrides).run()
        return lines

    def program(self, commit: str, lines: list[str], clients: Clients | None = None, **overrides: Any) -> Release:
        def sleep(seconds: float) -> None:
            self.now += seconds
            self.scheduler.step()

        return Release(self.settings(commit, **overrides), clients or Clients(self.ecs, self.ecr, self.ssm),
                       log=lines.append, sleep=sleep, clock=lambda: self.now)

    def kill_mid_rollout(self, commit: str) -> str:
        """What a release of `commit` leaves when CodeBuild kills it right after its UpdateService:
        migrated, tag published, the service rolling out its revision (returned), nothing undone."""
        self.push(commit)
        release = self.program(commit, [])
        s = release.settings
        migrate = release.revisions.with_images(s.migrate_family, s.images, s.app_container)
        release.migrate(migrate.arn)
        release.publish_tag(commit)
        arn = release.revisions.with_images(s.service_family, s.images, s.app_container).arn
        self.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)
        return arn

    # ---- What the tests look at ----

    def tag(self) -> str:
        return self.ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"]

    def latest(self, key: str) -> dict[str, Any]:
        latest = self.terraform.latest(FAMILIES[key])
        assert latest is not None
        return latest

    @property
    def blue_green(self) -> BlueGreen:
        assert self.scheduler.blue_green is not None
        return self.scheduler.blue_green

    def smoke_tasks(self) -> list[Any]:
        return [t for t in self.scheduler.backend.tasks.get(CLUSTER, {}).values() if t.started_by.startswith("smoke-")]

    def migration_tasks(self) -> list[Any]:
        return [t for t in self.scheduler.backend.tasks.get(CLUSTER, {}).values() if t.started_by.startswith("deploy-")]

    def running(self) -> dict[str, Any]:
        arn = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["taskDefinition"]
        return self.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]

    def revisions(self, key: str, status: str = "ACTIVE") -> list[str]:
        return self.ecs.list_task_definitions(familyPrefix=FAMILIES[key], status=status)["taskDefinitionArns"]


def images(definition: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["image"].rsplit(":", 1)[1] for c in definition["containerDefinitions"]}


def environment(definition: dict[str, Any]) -> dict[str, str]:
    app = next(c for c in definition["containerDefinitions"] if c["name"] == "app")
    return {e["name"]: e["value"] for e in app["environment"]}


@pytest.fixture
def listener() -> Iterator[Listener]:
    """The load balancer's test listener, played by a local HTTP server (http_listener.py)."""
    yield from serve()


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    scheduler = Scheduler()
    original = EC2ContainerServiceBackend.update_service

    def update_service(backend: Any, properties: dict[str, Any]) -> Any:
        service = original(backend, properties)
        scheduler.updated(service)
        return service

    monkeypatch.setattr(EC2ContainerServiceBackend, "update_service", update_service)
    with mock_aws():
        # Tasks stay RUNNING until the Scheduler double stops them.
        state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})
        ec2, ecs, ecr, ssm = (boto3.client(name, region_name=REGION) for name in ("ec2", "ecs", "ecr", "ssm"))
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})  # as modules/network sets it
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.128.0/20")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="tasks", Description="tasks", VpcId=vpc)["GroupId"]
        ecs.create_cluster(clusterName=CLUSTER)
        for repo in REPOSITORIES.values():
            ecr.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE")
        # The first `terraform apply`: placeholder tag, revisions of every family, the service.
        ssm.put_parameter(Name=PARAMETER, Value=PLACEHOLDER, Type="String")
        terraform = Terraform(ecs, ssm)
        terraform.apply()
        first = terraform.latest(FAMILIES["service"])["taskDefinitionArn"]
        ecs.create_service(
            cluster=CLUSTER, serviceName=SERVICE, taskDefinition=first,
            desiredCount=1, launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}},
        )
        faults = Faults()
        faults.attach(ecs, ecr, ssm)
        scheduler.blue_green = BlueGreen(ACCOUNT, REGION, CLUSTER, SERVICE, production=first)
        scheduler.blue_green.attach(ecs)
        yield Account(ecs, ecr, ssm, subnet, group, terraform, scheduler, faults)
        state_manager.unset_transition(model_name="ecs::task")
