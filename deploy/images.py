"""The commit's images in ECR: present before a release, marked while they may run.

The repositories' lifecycle policy (modules/ecs/ecr.tf) keeps the N most recently pushed tagged
images; builds that are never released push newer ones, and could expire the image the service
runs. So the images a release deploys, and the ones it replaced (what a rollback returns to),
carry a second tag, MARK_PREFIX + commit, that a higher-priority lifecycle rule keeps: "an image
that matches the tagging requirements of a rule cannot be expired by a rule with a lower
priority" (ECR User Guide, "Lifecycle policies"). Counting rules sort by push time, so an older
commit deployed again would be the first marked image to expire: the program therefore keeps the
mark on the current and the previous release only, and removes it from any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .errors import DeployError

# modules/ecs/ecr.tf repeats it in its protecting rule (tests/modules/test_ecs.py keeps them equal).
MARK_PREFIX = "deployed-"

# The manifest types the Build stage pushes (docker build: Docker v2 or OCI, single or index).
MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
]


class Images:
    def __init__(self, ecr: Any, repositories: dict[str, str]) -> None:
        self.ecr = ecr
        # Container name -> repository name (the part of the URL after the registry host).
        self.repositories = {container: url.split("/", 1)[1] for container, url in repositories.items()}
        self.urls = repositories

    def check_exist(self, tag: str) -> None:
        for container, repository in sorted(self.repositories.items()):
            try:
                self.ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
            except self.ecr.exceptions.ImageNotFoundException:
                raise DeployError(f"image {self.urls[container]}:{tag} of container {container!r} is not in ECR "
                                  "(did the Build stage push it?)") from None

    def mark(self, tag: str) -> bool:
        """Add MARK_PREFIX + tag to the images tagged `tag`: the same manifest under a second tag.

        Idempotent; True when this call added a mark (so undoing the release removes it), False
        when every image had it already or is not in ECR (such as a new environment's
        placeholder, which there is nothing to keep of).
        """
        added = False
        for repository in self.repositories.values():
            found = self.ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": tag}],
                                             acceptedMediaTypes=MEDIA_TYPES)
            if not found["images"]:
                continue
            image = found["images"][0]
            try:
                self.ecr.put_image(repositoryName=repository, imageManifest=image["imageManifest"],
                                   imageManifestMediaType=image["imageManifestMediaType"],
                                   imageTag=MARK_PREFIX + tag)
                added = True
            except self.ecr.exceptions.ImageAlreadyExistsException:
                pass  # this image carries the mark already
        return added

    def unmark(self, tag: str) -> None:
        """Remove the mark of the images tagged `tag` (they keep that tag)."""
        for repository in self.repositories.values():
            self.ecr.batch_delete_image(repositoryName=repository, imageIds=[{"imageTag": MARK_PREFIX + tag}])

    def unmark_all_but(self, keep: Iterable[str]) -> list[str]:
        """Remove the mark from every image not tagged with one of `keep`; the removed marks.

        BatchDeleteImage with a tag removes that tag only; it deletes the image with its last
        tag (ECR API reference), so a mark is removed only from an image that has another tag.
        """
        wanted = {MARK_PREFIX + tag for tag in keep}
        removed = []
        for repository in self.repositories.values():
            pages = self.ecr.get_paginator("describe_images").paginate(
                repositoryName=repository, filter={"tagStatus": "TAGGED"})
            for page in pages:
                for image in page["imageDetails"]:
                    tags = image.get("imageTags", [])
                    stale = [t for t in tags if t.startswith(MARK_PREFIX) and t not in wanted]
                    if stale and any(not t.startswith(MARK_PREFIX) for t in tags):
                        self.ecr.batch_delete_image(repositoryName=repository,
                                                    imageIds=[{"imageTag": t} for t in stale])
                        removed += [f"{repository}:{t}" for t in stale]
        return removed

