"""`python -m deploy` as CodeBuild runs it: a real process with real boto3 clients, against
moto's server on a loopback port (AWS_ENDPOINT_URL)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer
from test_settings import ENVIRONMENT

ROOT = Path(__file__).resolve().parents[2]


def run(environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "COMMIT_", "CODEBUILD_"))}
    return subprocess.run([sys.executable, "-m", "deploy"], cwd=ROOT, env={**base, **environ},
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def endpoint():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def aws(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "ap-northeast-1"}


def test_missing_settings_exit_2_with_one_line():
    result = run({})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("deploy: error: COMMIT_ID:"), result.stderr
    assert result.stdout == ""


def test_a_release_whose_images_are_missing_fails_with_one_line_and_changes_nothing(endpoint):
    ecr = boto3.client("ecr", endpoint_url=endpoint, region_name="ap-northeast-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    for url in (ENVIRONMENT["APP_REPOSITORY_URL"], ENVIRONMENT["PROXY_REPOSITORY_URL"]):
        ecr.create_repository(repositoryName=url.split("/", 1)[1])

    result = run({**ENVIRONMENT, **aws(endpoint)})

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "app" in result.stderr and "is not in ECR" in result.stderr
    assert result.stdout.startswith(f"release {ENVIRONMENT['COMMIT_ID']}")


def test_an_aws_error_is_one_line_too(endpoint):
    """Images present but no cluster: the first ECS call's refusal (reading the service's last
    good release) is reported as one line, not a traceback."""
    ecr = boto3.client("ecr", endpoint_url=endpoint, region_name="ap-northeast-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ssm = boto3.client("ssm", endpoint_url=endpoint, region_name="ap-northeast-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    manifest_type = "application/vnd.docker.distribution.manifest.v2+json"
    for url in (ENVIRONMENT["APP_REPOSITORY_URL"], ENVIRONMENT["PROXY_REPOSITORY_URL"]):
        name = url.split("/", 1)[1]
        digest = "sha256:" + (name.encode().hex() * 4)[:64]
        manifest = json.dumps({"schemaVersion": 2, "mediaType": manifest_type, "config": {"digest": digest}})
        ecr.put_image(repositoryName=name, imageTag=ENVIRONMENT["COMMIT_ID"], imageManifestMediaType=manifest_type,
                      imageManifest=manifest)
    ssm.put_parameter(Name=ENVIRONMENT["IMAGE_TAG_PARAMETER"], Value="bootstrap", Type="String")

    result = run({**ENVIRONMENT, **aws(endpoint)})

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert "ClusterNotFoundException" in result.stderr and "DescribeServices" in result.stderr


def test_help_prints_the_usage_and_exits_0():
    result = subprocess.run([sys.executable, "-m", "deploy", "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m deploy")
    for name in ("COMMIT_ID", "MIGRATE_TIMEOUT_MINUTES", "exit status: 0 released, 1"):
        assert name in result.stdout
    assert result.stderr == ""
