"""The released images survive the repositories' lifecycle policy (modules/ecs/ecr.tf), however
many unreleased builds are pushed after them, including after an older commit is released again.

The policy is evaluated as the ECR User Guide ("Lifecycle policies") describes it: rules by
ascending rulePriority; an image that matches the tag selection of a rule is not expired by a
rule of lower priority; imageCountMoreThan keeps the most recently pushed images of a rule.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

import pytest
from conftest import COMMITS, REPOSITORIES
from tfhelpers import load_module, locals_of, variables_of

from deploy.errors import DeployError
from deploy.images import MARK_PREFIX

A, B, C = COMMITS[:3]
UNRELEASED = [f"{n:040x}" for n in range(0xE000, 0xE000 + 30)]


def lifecycle_rules() -> list[dict[str, Any]]:
    """ecr.tf's rules with the module's locals and variable defaults filled in."""
    parsed = load_module("ecs")
    values = {f"local.{k}": v for k, v in locals_of(parsed).items()}
    values |= {f"var.{k}": v.get("default") for k, v in variables_of(parsed).items()}

    def fill(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        if isinstance(value, str) and (whole := re.fullmatch(r"\$\{([\w.]+)\}", value)):
            return values[whole.group(1)]
        return value

    return sorted(fill(locals_of(parsed)["ecr_lifecycle_policy"])["rules"], key=lambda r: r["rulePriority"])


def selects(selection: dict[str, Any], tags: list[str]) -> bool:
    if selection["tagStatus"] == "untagged":
        return not tags
    if selection["tagStatus"] == "any":
        return True
    if "tagPrefixList" in selection:
        return all(any(t.startswith(p) for t in tags) for p in selection["tagPrefixList"])
    return all(any(fnmatchcase(t, p) for t in tags) for p in selection["tagPatternList"])


def expired(images: list[dict[str, Any]], order: list[str]) -> set[str]:
    """The commits whose image the policy expires; `order` is the push order of the commits."""
    def pushed(image: dict[str, Any]) -> int:
        return max(order.index(t) for t in image["imageTags"] if t in order)

    # The rules count images, and ECR tells them apart by digest (that of the manifest): two
    # images under one digest cannot exist in ECR, and would be claimed as one below.
    digests = [i["imageDigest"] for i in images]
    assert len(set(digests)) == len(digests), f"images share a digest: {sorted(digests)}"
    claimed: set[str] = set()
    gone: set[str] = set()
    for rule in lifecycle_rules():
        matching = [i for i in images if selects(rule["selection"], i["imageTags"]) and i["imageDigest"] not in claimed]
        assert rule["selection"]["countType"] != "imageCountMoreThan" or rule["selection"]["countNumber"] >= 1
        if rule["selection"]["countType"] == "imageCountMoreThan":
            for image in sorted(matching, key=pushed, reverse=True)[rule["selection"]["countNumber"]:]:
                gone |= {t for t in image["imageTags"] if t in order}
        claimed |= {i["imageDigest"] for i in matching}
    return gone


def surviving(account, order: list[str]) -> dict[str, set[str]]:
    found = {}
    for container, repository in REPOSITORIES.items():
        images = account.ecr.describe_images(repositoryName=repository)["imageDetails"]
        found[container] = set(order) - expired(images, order)
    return found


def test_every_build_pushed_is_an_image_of_its_own(account):
    """The count rules are evaluated on distinct images; the emulator once gave a manifest one of
    101 digests at random, so an unreleased build could share the marked image's digest and
    outlive its count (1 run in 30 of the test below). 102 builds: more than 101."""
    builds = [f"{n:040x}" for n in range(0xF000, 0xF000 + 102)]
    for commit in builds:
        account.push(commit)

    for repository in REPOSITORIES.values():
        images = account.ecr.describe_images(repositoryName=repository)["imageDetails"]
        assert len({i["imageDigest"] for i in images}) == len(builds), repository


def test_the_running_and_the_previous_release_outlive_any_number_of_unreleased_builds(account):
    account.release(A)
    account.release(B)
    for commit in UNRELEASED:
        account.push(commit)

    kept = surviving(account, account.pushed)

    for container in REPOSITORIES:
        assert {A, B} <= kept[container], container
        assert UNRELEASED[0] not in kept[container]  # the ordinary rule still expires old builds


def test_an_older_commit_released_again_keeps_its_image_and_the_one_it_replaced(account):
    for commit in (A, B, C):
        account.release(commit)
    account.release(A, push=False)  # back to A, by releasing it again
    for commit in UNRELEASED:
        account.push(commit)

    kept = surviving(account, account.pushed)

    for container, repository in REPOSITORIES.items():
        assert {A, C} <= kept[container], container
        marks = {t for i in account.ecr.describe_images(repositoryName=repository)["imageDetails"]
                 for t in i["imageTags"] if t.startswith(MARK_PREFIX)}
        assert marks == {MARK_PREFIX + A, MARK_PREFIX + C}


def test_a_failed_release_leaves_the_marks_as_they_were(account):
    account.release(A)
    account.release(B)
    account.scheduler.rollout = "FAILED"
    with pytest.raises(DeployError):
        account.release(C)
    for commit in UNRELEASED:
        account.push(commit)

    kept = surviving(account, account.pushed)

    for container in REPOSITORIES:
        assert {A, B} <= kept[container]
        assert C not in kept[container]
