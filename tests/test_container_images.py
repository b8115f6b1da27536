"""The base images of app/Dockerfile: pulled from ECR Public, never from Docker Hub (whose
anonymous pulls from CodeBuild's shared addresses are rate limited), at exact versions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCKERFILE = Path(__file__).resolve().parent.parent / "app" / "Dockerfile"


def base_images() -> dict[str, str]:
    text = DOCKERFILE.read_text(encoding="utf-8")
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, flags=re.MULTILINE))
    bases = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    stages = set(re.findall(r"^FROM \S+ AS (\w+)", text, flags=re.MULTILINE))
    resolved = {}
    for base in bases:
        if base in stages:
            continue  # a build stage of this file
        match = re.fullmatch(r"\$\{(\w+)\}", base)
        assert match, f"FROM {base}: name the image in an ARG so that it is pinned in one place"
        resolved[match.group(1)] = args[match.group(1)]
    return resolved


def test_both_base_images_are_pinned_in_args():
    assert set(base_images()) == {"PYTHON_IMAGE", "NGINX_IMAGE"}


@pytest.mark.parametrize("name", ["PYTHON_IMAGE", "NGINX_IMAGE"])
def test_base_image_comes_from_ecr_public_at_an_exact_version(name):
    image = base_images()[name]
    assert image.startswith("public.ecr.aws/"), image
    repository, _, tag = image.rpartition(":")
    assert repository and tag, image
    # major.minor.patch, then an optional variant (-slim-bookworm, -alpine): never "latest"
    # or a moving major/minor tag such as "3.11-slim".
    assert re.fullmatch(r"\d+\.\d+\.\d+(-[a-z0-9.]+)*", tag), image


def test_python_base_matches_the_apps_python():
    pyproject = (DOCKERFILE.parent / "pyproject.toml").read_text(encoding="utf-8")
    low, high = re.search(r'requires-python = ">=(\d+\.\d+),<(\d+\.\d+)"', pyproject).groups()
    version = re.search(r":(\d+\.\d+)\.\d+", base_images()["PYTHON_IMAGE"]).group(1)
    assert tuple(map(int, low.split("."))) <= tuple(map(int, version.split("."))) < tuple(map(int, high.split(".")))


def test_the_database_ca_bundle_the_roots_name_is_the_one_the_image_ships():
    """DATABASE_URL's sslrootcert (sslmode=verify-full) must be a file the app image contains."""
    template = (DOCKERFILE.parent.parent / "templates" / "ecs.tf.j2").read_text(encoding="utf-8")
    (wanted,) = set(re.findall(r"sslrootcert=([^\"&]+)", template))
    text = DOCKERFILE.read_text(encoding="utf-8")
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", text, flags=re.MULTILINE))
    added = re.findall(r"^ADD --chmod=444 (\S+) (\S+)$", text, flags=re.MULTILINE)
    assert [path for _, path in added] == [wanted]
    # The source may be a build argument (a machine without AWS's trust store builds with a
    # stand-in), but by default it is AWS's bundle over HTTPS.
    (source,) = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], src) for src, _ in added]
    assert source == "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
