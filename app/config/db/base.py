"""Django's PostgreSQL backend, with credentials that are not in the environment.

Two ways, never both (settings refuse it):
- IAM_AUTH (DATABASE_IAM_AUTH, the app's tasks): each new connection sends a fresh IAM
  token as its password (config/db/iam.py); the app's role has no password at all.
- CREDENTIALS_ARN (DATABASE_CREDENTIALS_ARN, the migration task only): the RDS-managed master
  credentials, read from Secrets Manager, as described below.

RDS rotates the managed master password every 7 days, while ECS injects DATABASE_PASSWORD
only when a task starts: after a rotation every new connection of the running tasks would
be refused until a redeploy. With DATABASE_CREDENTIALS_ARN set (settings put it in the
database's CREDENTIALS_ARN), each new connection takes the current user name and password
from the secret instead. The secret is cached process-wide for CREDENTIALS_TTL seconds, and
a refused password refreshes it once, so a rotation costs one extra connection attempt.
With neither this is exactly Django's backend. (OPTIONS["pool"] is not supported with either:
a pool keeps the parameters it was created with.)
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.core.exceptions import ImproperlyConfigured
from django.db.backends.postgresql import base

from config.db import iam
from config.db.circuit import circuit_for

logger = logging.getLogger(__name__)

# A Secrets Manager outage must not hang requests for boto3's default 60 s per attempt.
_BOTO_CONFIG = Config(connect_timeout=3, read_timeout=5, retries={"max_attempts": 2})


def fetch_credentials(arn: str) -> dict[str, str]:
    """The secret's username (if any) and password; the region is the ARN's fourth field."""
    region = arn.split(":")[3]
    # A session per call: boto3's default session is not thread-safe.
    client = boto3.session.Session().client(
        "secretsmanager", region_name=region, config=_BOTO_CONFIG
    )
    secret = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    credentials = {"password": secret["password"]}
    if secret.get("username"):
        credentials["user"] = secret["username"]
    return credentials


class _CredentialCache:
    """Process-wide, shared by all threads and connections (one fetch per TTL, not per thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, dict[str, str]]] = {}

    def get(self, arn: str, ttl: float, *, refused: str | None = None) -> dict[str, str] | None:
        """Cached credentials, fetched again when older than ttl or when `refused` is the
        cached password. None when the secret cannot be read and nothing was cached."""
        # Held during the fetch, so threads that expire together make one call, and threads
        # refused together refresh once: the later ones find a password that differs.
        with self._lock:
            entry = self._entries.get(arn)
            if entry and time.monotonic() - entry[0] < ttl and entry[1]["password"] != refused:
                return entry[1]
            try:
                credentials = fetch_credentials(arn)
            except (BotoCoreError, ClientError, ValueError, KeyError, TypeError) as exc:
                # Type and AWS error code only: never the secret or a message that may quote it.
                code = exc.response["Error"].get("Code") if isinstance(exc, ClientError) else None
                logger.warning(
                    "database credentials unavailable from Secrets Manager",
                    extra={"secret_arn": arn, "error": type(exc).__name__, "error_code": code},
                )
                # An older secret beats the password the task started with (or none at all).
                return entry[1] if entry else None
            self._entries[arn] = (time.monotonic(), credentials)
            return credentials

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


credential_cache = _CredentialCache()


def is_authentication_failure(exc: Exception) -> bool:
    # libpq reports a refused password before any result exists, so psycopg 3 often has no
    # SQLSTATE (28P01) for it; the server's message is then the only sign.
    code = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    return code == "28P01" or "password authentication failed" in str(exc)


class DatabaseWrapper(base.DatabaseWrapper):
    def _credentials(self, *, refused: str | None = None) -> dict[str, str]:
        arn = self.settings_dict["CREDENTIALS_ARN"]
        credentials = credential_cache.get(
            arn, self.settings_dict.get("CREDENTIALS_TTL", 300), refused=refused
        )
        if credentials is not None:
            return credentials
        if self.settings_dict["PASSWORD"]:
            return {}  # Django's parameters already carry DATABASE_PASSWORD or the URL's.
        raise ImproperlyConfigured(
            "DATABASE_CREDENTIALS_ARN: the secret could not be read and there is no "
            "DATABASE_PASSWORD (or password in DATABASE_URL) to fall back to."
        )

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        if self.settings_dict.get("IAM_AUTH"):
            # Signed now, for this connection only: a token expires after 15 minutes.
            params["password"] = iam.auth_token(
                params.get("host", ""),
                params.get("port") or 5432,
                params.get("user", ""),
                self.settings_dict["IAM_REGION"],
            )
        elif self.settings_dict.get("CREDENTIALS_ARN"):
            params.update(self._credentials())
        return params

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        # Refused at once while the database is known to be down (config/db/circuit.py), as the
        # driver's OperationalError: Django and the 503 page treat it like the failure itself.
        return circuit_for(self.alias).call(
            lambda: self._new_connection(conn_params),
            outage=self._is_outage,
            refuse=self.Database.OperationalError,
            retry_after=self.settings_dict.get("RETRY_SECONDS", 5),
        )

    def _is_outage(self, exc: Exception) -> bool | None:
        if isinstance(exc, self.Database.OperationalError):
            return not is_authentication_failure(exc)
        return None

    def _new_connection(self, conn_params: dict[str, Any]) -> Any:
        try:
            return super().get_new_connection(conn_params)
        except self.Database.OperationalError as exc:
            if not (self.settings_dict.get("CREDENTIALS_ARN") and is_authentication_failure(exc)):
                raise
            logger.info("database password refused; refreshing the credentials and retrying")
            retry_params = {**conn_params, **self._credentials(refused=conn_params.get("password"))}
        # Once, outside the except block: a secret that is simply wrong fails with its own error
        # instead of looping (and without the first failure chained to it).
        return super().get_new_connection(retry_params)
