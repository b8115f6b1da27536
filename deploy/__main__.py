"""`python -m deploy`: release the commit in COMMIT_ID. Exit 0 released, 1 failed, 2 bad settings."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from .errors import DeployError, SettingsError
from .release import Clients, Release, one_line
from .settings import Settings

USAGE = """\
Release the commit in COMMIT_ID (CODEBUILD_RESOLVED_SOURCE_VERSION outside the pipeline): run the
migration task, publish the image tag, roll out the service, register the job revisions; on a
failure after the migration, roll back to the last good release (deploy/release.py).

The CodeBuild project of the pipeline's Deploy stage sets the settings: CLUSTER_NAME,
SERVICE_NAME, SERVICE_TASK_FAMILY, MIGRATE_TASK_FAMILY, JOB_TASK_FAMILIES, SUBNET_IDS,
SECURITY_GROUP_ID, APP_REPOSITORY_URL, PROXY_REPOSITORY_URL, APP_CONTAINER_NAME,
PROXY_CONTAINER_NAME, IMAGE_TAG_PARAMETER, MIGRATE_TIMEOUT_MINUTES, DEPLOY_TIMEOUT_MINUTES, and
for a BLUE_GREEN service SMOKE_TEST_URL (the load balancer's test listener, where the new revision
is smoke-tested; a failure stops the service deployment with a rollback).

exit status: 0 released, 1 the release failed (the last line says why and what was undone),
2 missing or malformed settings.
"""

# Every AWS call retries throttling and transient errors with backoff (botocore "standard" retry
# mode: ThrottlingException is retried), so a throttled poll during a 30-minute wait is not a
# failed release. 10 attempts back off for up to about two minutes in all.
RETRIES = {"mode": "standard", "max_attempts": 10}


def make_clients(session: Any) -> Clients:
    from botocore.config import Config

    config = Config(retries=dict(RETRIES))
    return Clients(*(session.client(name, config=config) for name in ("ecs", "ecr", "ssm")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=USAGE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    try:
        settings = Settings.from_environment(os.environ)
    except SettingsError as exc:
        print(f"deploy: error: {exc}", file=sys.stderr)
        return 2
    # Imported late: a settings error needs no AWS SDK.
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        Release(settings, make_clients(boto3.session.Session()), log=lambda line: print(line, flush=True)).run()
    except (DeployError, ClientError, BotoCoreError) as exc:
        print(f"deploy: error: {one_line(exc)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
