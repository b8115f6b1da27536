"""The release keeps each task definition's CPU architecture: its revisions are copies of the
family's latest one with other images, so a Graviton environment's migration, service and jobs
stay ARM64, the architecture its images were built for (an x86 copy would not start them)."""

from __future__ import annotations

from conftest import CLUSTER, COMMITS, FAMILIES, SERVICE, images

GRAVITON = {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}


def test_every_revision_a_release_registers_keeps_the_architecture(account):
    # Terraform's revisions as the modules declare them in an ARM64 environment.
    for key, family in FAMILIES.items():
        latest = account.latest(key)
        registered = account.ecs.register_task_definition(
            family=family,
            networkMode="awsvpc",
            requiresCompatibilities=["FARGATE"],
            cpu="256",
            memory="512",
            containerDefinitions=latest["containerDefinitions"],
            runtimePlatform=GRAVITON,
        )["taskDefinition"]
        if key == "service":
            account.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=registered["taskDefinitionArn"])

    account.release(COMMITS[0])

    (migration,) = account.scheduler.migrations
    migrated = account.ecs.describe_task_definition(taskDefinition=migration)["taskDefinition"]
    for definition in (migrated, account.running(), account.latest("job")):
        assert images(definition)["app"] == COMMITS[0]  # a revision the release registered
        assert definition.get("runtimePlatform") == GRAVITON, definition["family"]
