"""IAM database authentication for RDS: a short-lived token instead of a password.

With DATABASE_IAM_AUTH on, each new connection signs a fresh token with the task role's
credentials (`generate_db_auth_token`: a SigV4-presigned `connect` request, computed locally,
no AWS call) and sends it as the password. RDS accepts a token for 15 minutes and only for a
role granted `rds_iam`, from a principal allowed `rds-db:connect` on
arn:aws:rds-db:REGION:ACCOUNT:dbuser:DBI_RESOURCE_ID/USER; the app holds no database password
at all. The token is a bearer credential while it lives, so settings demand
sslmode=verify-full with it.
https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html
"""

from __future__ import annotations

import threading

import boto3
from botocore.config import Config

# Signing is local; the config only bounds the credential refresh (the container endpoint).
_BOTO_CONFIG = Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 2})
_clients: dict[str, object] = {}
_lock = threading.Lock()


def _client(region: str):
    # One client per process and region: clients are thread-safe and refresh the task role's
    # credentials themselves; a boto3 session (not thread-safe) is used only to build it.
    with _lock:
        if region not in _clients:
            session = boto3.session.Session()
            _clients[region] = session.client("rds", region_name=region, config=_BOTO_CONFIG)
        return _clients[region]


def auth_token(host: str, port: int | str, user: str, region: str) -> str:
    """A token valid for 15 minutes, for one new connection of `user` to host:port."""
    return _client(region).generate_db_auth_token(
        DBHostname=host, Port=int(port), DBUsername=user, Region=region
    )
