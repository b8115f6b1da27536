"""`python -m deploy`: release the commit in COMMIT_ID. Exit 0 released, 1 failed, 2 bad settings."""

from __future__ import annotations

import os
import sys

from .errors import DeployError, SettingsError
from .release import Clients, Release
from .settings import Settings


def main() -> int:
    try:
        settings = Settings.from_environment(os.environ)
    except SettingsError as exc:
        print(f"deploy: error: {exc}", file=sys.stderr)
        return 2
    # Imported late: a settings error needs no AWS SDK.
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session()
    clients = Clients(ecs=session.client("ecs"), ecr=session.client("ecr"), ssm=session.client("ssm"))
    try:
        Release(settings, clients, log=lambda line: print(line, flush=True)).run()
    except (DeployError, ClientError, BotoCoreError) as exc:
        print(f"deploy: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
