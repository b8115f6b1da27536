"""Task definition revisions: the family's latest ACTIVE one, and a copy with other images.

Terraform registers revisions that carry the settings (environment, secrets, sizes, roles) and
the deployed image; this program registers copies of the family's latest revision that differ
in the images only. So neither side reverts the other: a release keeps every setting Terraform
applied, and Terraform (track_latest) sees a release's revision as its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import DeployError


@dataclass(frozen=True)
class Revision:
    arn: str
    registered: bool  # True when this run registered it


def container_images(definition: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["image"] for c in definition["containerDefinitions"]}


class TaskDefinitions:
    def __init__(self, ecs: Any) -> None:
        self.ecs = ecs
        # What RegisterTaskDefinition accepts, from the API model: DescribeTaskDefinition also
        # returns read-only fields (arn, revision, status, registeredAt...) that it rejects.
        members = ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape.members
        self.register_fields = frozenset(members) - {"tags"}

    def latest(self, family: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """The family's latest ACTIVE revision and its tags.

        Listed rather than described by family name: only ACTIVE revisions count, so a revision
        deregistered after a failed release is never copied again.
        """
        revisions: list[tuple[int, str]] = []
        for page in self.ecs.get_paginator("list_task_definitions").paginate(familyPrefix=family, status="ACTIVE"):
            for arn in page["taskDefinitionArns"]:
                name, _, number = arn.rpartition("/")[2].rpartition(":")
                if name == family:  # familyPrefix is a prefix: keep the exact family only
                    revisions.append((int(number), arn))
        if not revisions:
            raise DeployError(f"task definition family {family}: no ACTIVE revision (has `terraform apply` run?)")
        found = self.ecs.describe_task_definition(taskDefinition=max(revisions)[1], include=["TAGS"])
        return found["taskDefinition"], found.get("tags", [])

    def with_images(self, family: str, images: dict[str, str], required: str) -> Revision:
        """A revision of `family` equal to its latest except for the images of the named containers.

        Reuses the latest revision when it already has those images (a retried release, or a
        `terraform apply` after the image tag was published), so a retry registers nothing new.
        """
        definition, tags = self.latest(family)
        current = container_images(definition)
        if required not in current:
            raise DeployError(f"task definition {definition['taskDefinitionArn']}: no container named {required!r}")
        wanted = {name: image for name, image in images.items() if name in current}
        if all(current[name] == image for name, image in wanted.items()):
            return Revision(definition["taskDefinitionArn"], registered=False)
        body = {key: value for key, value in definition.items() if key in self.register_fields}
        body["containerDefinitions"] = [
            {**container, "image": wanted.get(container["name"], container["image"])}
            for container in definition["containerDefinitions"]
        ]
        if tags:
            body["tags"] = tags
        registered = self.ecs.register_task_definition(**body)["taskDefinition"]
        return Revision(registered["taskDefinitionArn"], registered=True)

    def deregister(self, revision: Revision) -> None:
        """Undo a release's revision, so the family's latest ACTIVE revision is the last good one."""
        self.ecs.deregister_task_definition(taskDefinition=revision.arn)

    def task_role_of(self, arn: str) -> str:
        role = self.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"].get("taskRoleArn")
        if not role:
            raise DeployError(f"task definition {arn}: no task role")
        return role

    def images_of(self, arn: str) -> dict[str, str]:
        return container_images(self.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"])
