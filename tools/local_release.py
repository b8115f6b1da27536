"""A release by the deploy program (deploy/) against an environment applied in the emulator.

The program runs as the pipeline's Deploy stage runs it: its settings are the environment
variables Terraform gave the deploy CodeBuild project, read back from the emulated project, so
this proves that the names Terraform passes and the names the program reads agree, and that the
families, parameter, cluster and service they name exist. Two things only ECS itself does are
emulated: a one-off task stops (moto's state manager moves tasks straight to STOPPED, exit code
0), and a service rollout completes (a declared server patch, tools/emulator_gaps.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
import urllib.request
from typing import Any

from tfwork import ROOT

sys.path.insert(0, str(ROOT))

from deploy.release import Clients, Release  # noqa: E402
from deploy.revisions import container_images  # noqa: E402
from deploy.settings import Settings  # noqa: E402

DEPLOY_BUILDSPEC = "deploy/buildspec.yml"
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def deploy_project_environment(codebuild: Any) -> dict[str, str]:
    """The environment variables of the CodeBuild project that runs deploy/buildspec.yml."""
    names = codebuild.list_projects()["projects"]
    projects = codebuild.batch_get_projects(names=names)["projects"] if names else []
    found = [p for p in projects if p.get("source", {}).get("buildspec") == DEPLOY_BUILDSPEC]
    if len(found) != 1:
        raise RuntimeError(f"expected one CodeBuild project running {DEPLOY_BUILDSPEC}, found {len(found)}")
    return {v["name"]: v["value"] for v in found[0]["environment"].get("environmentVariables", [])}


def push_images(ecr: Any, settings: Settings) -> None:
    """What the Build stage does: both images of the commit in their ECR repositories."""
    for url in settings.repositories.values():
        digest = "sha256:" + hashlib.sha256(f"{url}:{settings.commit}".encode()).hexdigest()
        manifest = json.dumps({"schemaVersion": 2, "mediaType": MANIFEST_TYPE, "config": {"digest": digest}})
        ecr.put_image(repositoryName=url.split("/", 1)[1], imageManifest=manifest, imageTag=settings.commit,
                      imageManifestMediaType=MANIFEST_TYPE)


def tasks_stop_at_once(endpoint: str) -> None:
    """moto's state manager: a task is STOPPED when next described (its containers exit 0)."""
    body = json.dumps({"model_name": "ecs::task", "transition": {"progression": "immediate"}}).encode()
    request = urllib.request.Request(f"{endpoint}/moto-api/state-manager/set-transition", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


def release(emulator: Any, region: str, commit: str) -> dict[str, Any]:
    """Run one release of `commit`; what it logged and what runs afterwards."""
    codebuild, ecr, ecs, ssm = (emulator.boto3_client(s, region) for s in ("codebuild", "ecr", "ecs", "ssm"))
    environ = {**deploy_project_environment(codebuild), "COMMIT_ID": commit}
    settings = dataclasses.replace(Settings.from_environment(environ), poll_seconds=0.1)
    push_images(ecr, settings)
    tasks_stop_at_once(emulator.endpoint)
    log: list[str] = []
    Release(settings, Clients(ecs=ecs, ecr=ecr, ssm=ssm), log=log.append).run()
    service = ecs.describe_services(cluster=settings.cluster, services=[settings.service])["services"][0]
    running = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    return {
        "log": log,
        "image_tag": ssm.get_parameter(Name=settings.image_tag_parameter)["Parameter"]["Value"],
        "service_task_definition": service["taskDefinition"],
        "service_images": container_images(running),
        "expected_images": settings.images,
    }
