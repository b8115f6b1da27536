"""ECS-native blue/green, played where moto 5.2.5 has nothing: a declared stand-in.

What moto lacks, and what this double answers in ECS's place on the test's ECS client (botocore's
before-call event: the request never reaches moto; after-call for DescribeServices):

GAPS names each gap with its reason. The double keeps one list of service deployments and the two
listener rules' targets (which task definition production and test traffic reach) and moves them
between polls the way the ECS guide's lifecycle describes: SCALE_UP -> POST_TEST_TRAFFIC_SHIFT
(test traffic on green) -> [a PAUSE hook waits for ContinueServiceDeployment] -> production
traffic on green -> BAKE_TIME (blue still running) -> SUCCESSFUL; a Lambda hook there that answers
FAILED rolls back at once. StopServiceDeployment with
ROLLBACK (or an alarm during the bake, `rollout = "FAILED"`) moves production traffic straight
back to blue. A smoke-test task passes only if the test listener serves a revision with the
image it was started with, and the double records where traffic was when it ran.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.awsrequest import AWSResponse

GAPS = {
    "ListServiceDeployments": "moto 5.2.5 implements no service deployments (ECS API added in 2024)",
    "DescribeServiceDeployments": "moto 5.2.5 implements no service deployments (ECS API added in 2024)",
    "DescribeServiceRevisions": "moto 5.2.5 implements no service revisions (ECS API added in 2024)",
    "StopServiceDeployment": "moto 5.2.5 implements no service deployments (ECS API added in 2025)",
    "ContinueServiceDeployment": "moto 5.2.5 implements no lifecycle hooks (PAUSE hooks, ECS API added in 2026)",
    "DescribeServices": "moto 5.2.5 drops a service's deploymentConfiguration (strategy, bakeTimeInMinutes); "
    "the double adds the strategy under test to its answer",
}


class _Body:
    def __init__(self) -> None:
        self.body = b""

    def stream(self, **_: Any) -> Any:
        yield self.body


@dataclass
class BlueGreen:
    account: str
    region: str
    cluster: str
    service: str
    enabled: bool = False  # False: the service reports ROLLING and nothing else is answered here
    bake_minutes: int = 3
    bake_steps: int = 2  # polls the bake lasts
    pause_hook: bool = False  # a PAUSE hook at POST_TEST_TRAFFIC_SHIFT
    # The smoke-test Lambda hook at POST_TEST_TRAFFIC_SHIFT (modules/ecs): ECS invokes it as the
    # stage begins; it answers at once (FAILED when green is unhealthy, and ECS rolls back).
    lambda_hook: bool = False
    green_healthy: bool = True  # False: the new revision fails its smoke test
    production: str = ""  # task definition production traffic reaches
    test: str = ""  # task definition test traffic reaches
    deployments: list[dict[str, Any]] = field(default_factory=list)
    stops: list[str] = field(default_factory=list)  # StopServiceDeployment calls
    continues: list[tuple[str, str]] = field(default_factory=list)  # (deployment, action)
    smoke_checks: list[dict[str, Any]] = field(default_factory=list)
    served: list[str] = field(default_factory=list)  # every task definition production traffic reached, in order
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    # ---- Wiring ----

    def attach(self, ecs: Any) -> None:
        for operation in GAPS:
            if operation != "DescribeServices":
                ecs.meta.events.register_first(f"before-call.ecs.{operation}", self._answer)
        ecs.meta.events.register("after-call.ecs.DescribeServices", self._add_strategy)

    def _answer(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        assert self.enabled, f"{model.name} called for a ROLLING service"
        handler = getattr(self, "_" + "".join("_" + c.lower() if c.isupper() else c for c in model.name).lstrip("_"))
        # The request as serialized for ECS's JSON protocol (timestamps as epoch seconds).
        parsed = handler(json.loads(params["body"] or b"{}"))
        parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": 200})
        return AWSResponse("https://stand-in", 200, {}, _Body()), parsed

    def _add_strategy(self, parsed: dict[str, Any], **_: Any) -> None:
        for service in parsed.get("services", []):
            service["deploymentConfiguration"] = (
                {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": self.bake_minutes}
                if self.enabled
                else {"strategy": "ROLLING"}
            )

    # ---- The API ----

    def _list_service_deployments(self, params: dict[str, Any]) -> dict[str, Any]:
        after = params.get("createdAt", {}).get("after")
        after = None if after is None else datetime.fromtimestamp(after, UTC)
        return {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": d["arn"],
                    "createdAt": d["createdAt"],
                    "status": d["status"],
                    "targetServiceRevisionArn": d["revision"],
                }
                for d in self.deployments
                if after is None or d["createdAt"] >= after
            ]
        }

    def _describe_service_deployments(self, params: dict[str, Any]) -> dict[str, Any]:
        found = [d for d in self.deployments if d["arn"] in params["serviceDeploymentArns"]]
        return {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": d["arn"],
                    "status": d["status"],
                    "lifecycleStage": d["stage"],
                    "statusReason": d.get("reason", ""),
                    "lifecycleHookDetails": d.get("hooks", []),
                }
                for d in found
            ],
            "failures": [],
        }

    def _describe_service_revisions(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "serviceRevisions": [
                {"serviceRevisionArn": d["revision"], "taskDefinition": d["target"]}
                for d in self.deployments
                if d["revision"] in params["serviceRevisionArns"]
            ]
        }

    def _stop_service_deployment(self, params: dict[str, Any]) -> dict[str, Any]:
        assert params["stopType"] == "ROLLBACK"
        deployment = self.find(params["serviceDeploymentArn"])
        self.stops.append(deployment["arn"])
        if deployment["status"] == "IN_PROGRESS":
            deployment["status"] = "ROLLBACK_REQUESTED"
        return {"serviceDeploymentArn": deployment["arn"]}

    def _continue_service_deployment(self, params: dict[str, Any]) -> dict[str, Any]:
        deployment = self.find(params["serviceDeploymentArn"])
        action = params.get("action", "CONTINUE")
        self.continues.append((deployment["arn"], action))
        (hook,) = deployment["hooks"]
        assert hook["hookId"] == params["hookId"] and hook["status"] == "AWAITING_ACTION"
        hook["status"] = "SUCCEEDED" if action == "CONTINUE" else "FAILED"
        if action == "ROLLBACK":
            deployment["status"] = "ROLLBACK_REQUESTED"
        return {"serviceDeploymentArn": deployment["arn"]}

    def find(self, arn: str) -> dict[str, Any]:
        return next(d for d in self.deployments if d["arn"] == arn)

    # ---- What ECS does ----

    def updated(self, service: Any, previous: str) -> None:
        """UpdateService with another revision: a new service deployment; one still under way is
        superseded (STOPPED), as ECS does."""
        for deployment in self.deployments:
            if deployment["status"] == "IN_PROGRESS":
                deployment["status"], deployment["reason"] = "STOPPED", "superseded by a newer deployment"
        number = next(self._ids)
        prefix = f"arn:aws:ecs:{self.region}:{self.account}"
        self.deployments.append(
            {
                "arn": f"{prefix}:service-deployment/{self.cluster}/{self.service}/{number}",
                "revision": f"{prefix}:service-revision/{self.cluster}/{self.service}/{number}",
                "target": service.task_definition,
                "source": self.production or previous,
                "status": "IN_PROGRESS",
                "stage": "SCALE_UP",
                "createdAt": datetime.now(UTC),
                "bake": self.bake_steps,
            }
        )

    def step(self, service: Any, rollout: str) -> None:
        for deployment in self.deployments:
            if deployment["status"] == "ROLLBACK_REQUESTED":
                self.back_to_blue(service, deployment, "rolled back on request")
            elif deployment["status"] == "IN_PROGRESS":
                self.advance(service, deployment, rollout)

    def advance(self, service: Any, deployment: dict[str, Any], rollout: str) -> None:
        stage = deployment["stage"]
        if stage == "SCALE_UP":
            deployment["stage"], self.test = "POST_TEST_TRAFFIC_SHIFT", deployment["target"]
            if self.pause_hook:
                deployment["hooks"] = [
                    {
                        "hookId": f"hook-{deployment['arn'].rsplit('/', 1)[1]}",
                        "targetType": "PAUSE",
                        "status": "AWAITING_ACTION",
                    }
                ]
            if self.lambda_hook:
                verdict = "SUCCEEDED" if self.green_healthy else "FAILED"
                deployment.setdefault("hooks", []).append(
                    {"hookId": f"lambda-{deployment['arn'].rsplit('/', 1)[1]}", "targetType": "AWS_LAMBDA",
                     "status": verdict}
                )
                if verdict == "FAILED":  # ECS rolls back by itself, before production traffic moves
                    self.back_to_blue(service, deployment, "lifecycle hook AWS_LAMBDA returned FAILED")
        elif stage == "POST_TEST_TRAFFIC_SHIFT":
            if any(h["status"] == "AWAITING_ACTION" for h in deployment.get("hooks", [])):
                return  # the PAUSE hook holds production traffic on blue
            deployment["stage"], self.production = "BAKE_TIME", deployment["target"]
            self.served.append(self.production)
        elif stage == "BAKE_TIME":
            if rollout == "FAILED":  # a deployment alarm went to ALARM during the bake
                self.back_to_blue(service, deployment, "deployment alarm went into ALARM")
            elif rollout == "COMPLETED":
                deployment["bake"] -= 1
                if deployment["bake"] <= 0:
                    deployment["status"], deployment["stage"] = "SUCCESSFUL", "CLEAN_UP"
                    primary = next(d for d in service.deployments if d["status"] == "PRIMARY")
                    primary["rolloutState"] = "COMPLETED"
                    service.deployments = [primary]

    def back_to_blue(self, service: Any, deployment: dict[str, Any], reason: str) -> None:
        """Production (and test) traffic straight back to the source revision, which still runs."""
        deployment["status"], deployment["reason"] = "ROLLBACK_SUCCESSFUL", reason
        self.production = self.test = deployment["source"]
        self.served.append(self.production)
        service.task_definition = deployment["source"]
        previous = next((d for d in service.deployments if d["taskDefinition"] == deployment["source"]), None)
        failed = [
            {**d, "status": "ACTIVE", "rolloutState": "FAILED"}
            for d in service.deployments
            if d["taskDefinition"] == deployment["target"]
        ]
        if previous is not None:
            service.deployments = [{**previous, "status": "PRIMARY", "rolloutState": "COMPLETED"}, *failed]

    def smoke(self, task: Any, images_of: Any) -> int:
        """The smoke task's exit code: 0 when the test listener serves the release's image."""
        served = images_of(self.test)["app"] if self.test else None
        started_with = images_of(task.task_definition_arn)["app"]
        live = next((d for d in reversed(self.deployments)), None)
        self.smoke_checks.append(
            {
                "stage": live and live["stage"],
                "test": self.test,
                "production": self.production,
                "overrides": task.overrides,
            }
        )
        return 0 if served == started_with and self.green_healthy else 1
