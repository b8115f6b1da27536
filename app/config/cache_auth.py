"""IAM authentication to ElastiCache (Valkey/Redis OSS): a short-lived token per connection.

ElastiCache accepts, instead of a password, a SigV4-presigned `connect` request for a user
whose authentication mode is "iam", from a principal allowed `elasticache:Connect` on both the
replication group and that user. The token is the presigned URL without its scheme, valid for
15 minutes; ElastiCache closes IAM-authenticated connections after 12 hours, and a reconnection
signs a new token. The user ID and user name must be the same, and TLS is required.
https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html

redis-py asks its credential provider on every new connection (AUTH user token), so the
token is signed there, with the task role's (refreshing) credentials; nothing is stored.
"""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import boto3
from botocore.model import ServiceId
from botocore.signers import RequestSigner
from redis.credentials import CredentialProvider

TOKEN_SECONDS = 900  # ElastiCache accepts a token for 15 minutes


class ElastiCacheIAMProvider(CredentialProvider):
    """(user, token) for each new connection of `user` to the replication group `cache_name`."""

    def __init__(self, user: str, cache_name: str, region: str) -> None:
        self.user, self.cache_name, self.region = user, cache_name.lower(), region
        self._signer: RequestSigner | None = None
        self._lock = threading.Lock()

    def _request_signer(self) -> RequestSigner:
        # Built once: the session's credentials refresh themselves (the task role's), and
        # RequestSigner freezes them at each signing. Sessions are not thread-safe: a lock.
        with self._lock:
            if self._signer is None:
                session = boto3.session.Session()
                self._signer = RequestSigner(
                    ServiceId("elasticache"),
                    self.region,
                    "elasticache",
                    "v4",
                    session.get_credentials(),
                    session.events,
                )
            return self._signer

    def token(self) -> str:
        query = urlencode({"Action": "connect", "User": self.user})
        request = {
            "method": "GET",
            "url": f"http://{self.cache_name}/?{query}",
            "body": {},
            "headers": {},
            "context": {},
        }
        signed = self._request_signer().generate_presigned_url(
            request, operation_name="connect", expires_in=TOKEN_SECONDS, region_name=self.region
        )
        return signed.removeprefix("http://")

    def get_credentials(self) -> tuple[str, str]:
        return self.user, self.token()
