"""ECS service deployments of a BLUE_GREEN service, as the release follows and stops them.

A rolling service reports its rollout in DescribeServices (deployments[].rolloutState); a
blue/green one is followed through its service deployment (ListServiceDeployments,
DescribeServiceDeployments): its status (PENDING, IN_PROGRESS, SUCCESSFUL, STOP_REQUESTED,
STOPPED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED) and its
lifecycle stage (SCALE_UP ... TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT,
PRODUCTION_TRAFFIC_SHIFT ... BAKE_TIME, CLEAN_UP), as the ECS API reference and the botocore
service model name them. StopServiceDeployment with stopType ROLLBACK returns production traffic
to the previous revision, which still runs until the bake time ends.
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-blue-green.html
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .errors import DeployError

# Test traffic reaches the new revision from POST_TEST_TRAFFIC_SHIFT on (during
# TEST_TRAFFIC_SHIFT the test rule's weights are still moving).
TESTABLE_STAGES = frozenset(
    {
        "POST_TEST_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
        "POST_PRODUCTION_TRAFFIC_SHIFT",
        "BAKE_TIME",
    }
)
DONE = "SUCCESSFUL"
# Over, without the new revision: ECS rolled back (circuit breaker, alarm, our StopServiceDeployment)
# or the deployment was stopped or superseded.
GIVEN_UP = frozenset({"ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED", "STOPPED"})
STOPPING = frozenset({"STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"})


@dataclass(frozen=True)
class State:
    arn: str
    status: str
    stage: str | None
    reason: str
    # A PAUSE lifecycle hook waiting for ContinueServiceDeployment (hookId), if any.
    paused_hook: str | None

    @property
    def testable(self) -> bool:
        return self.status == "IN_PROGRESS" and self.stage in TESTABLE_STAGES

    def describe(self) -> str:
        return f"{self.status}" + (f" ({self.reason})" if self.reason else "")


class ServiceDeployments:
    def __init__(self, ecs: Any, cluster: str, service: str) -> None:
        self.ecs, self.cluster, self.service = ecs, cluster, service

    def find(self, task_definition: str, since: datetime) -> str | None:
        """The ARN of the service's deployment, created at or after `since`, whose target revision
        runs `task_definition`; None while ECS has not created it yet."""
        listed = self.ecs.list_service_deployments(
            cluster=self.cluster, service=self.service, createdAt={"after": since}
        )["serviceDeployments"]
        for brief in sorted(listed, key=lambda d: d.get("createdAt") or since, reverse=True):
            revision = brief.get("targetServiceRevisionArn")
            if not revision:
                continue
            found = self.ecs.describe_service_revisions(serviceRevisionArns=[revision])["serviceRevisions"]
            if found and found[0]["taskDefinition"] == task_definition:
                return brief["serviceDeploymentArn"]
        return None

    def state(self, arn: str) -> State:
        found = self.ecs.describe_service_deployments(serviceDeploymentArns=[arn])
        if not found.get("serviceDeployments"):
            raise DeployError(f"service deployment {arn}: not found ({found.get('failures')})")
        deployment = found["serviceDeployments"][0]
        paused = next(
            (
                hook["hookId"]
                for hook in deployment.get("lifecycleHookDetails", [])
                if hook.get("targetType") == "PAUSE" and hook.get("status") == "AWAITING_ACTION"
            ),
            None,
        )
        return State(
            arn,
            deployment["status"],
            deployment.get("lifecycleStage"),
            " ".join(str(deployment.get("statusReason", "")).split()),
            paused,
        )

    def roll_back(self, arn: str) -> None:
        """Stop the deployment and return traffic to the previous revision (StopServiceDeployment,
        stopType ROLLBACK: "even if you didn't configure the service deployment for the rollback
        option", ECS API reference)."""
        self.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")

    def resume(self, state: State, action: str) -> None:
        """Answer a PAUSE hook: CONTINUE to the next stage, or ROLLBACK."""
        assert state.paused_hook is not None
        self.ecs.continue_service_deployment(serviceDeploymentArn=state.arn, hookId=state.paused_hook, action=action)
