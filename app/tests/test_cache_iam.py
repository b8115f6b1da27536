"""The app authenticates to the cache with IAM tokens (ElastiCache for Valkey/Redis OSS).

A private redis-server with ACLs stands in for ElastiCache: the default user is off, and the
app's user accepts only the token the test expects, so the server itself shows that the
password sent is the token and that each new connection asks for a fresh one. boto3's real
signer is checked on its own (it signs locally with fake credentials and calls nothing).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from django.core.cache.backends.redis import RedisCache

from config.cache_auth import ElastiCacheIAMProvider
from tests.helpers import APP_DIR, PYTHON, free_port, require, stop_process_group, wait_for_port

REGION = "ap-northeast-1"
USER = "todo-dev-data-cache-app-ecuser"
GROUP = "todo-dev-data-cache-main-ec"


# ---- The token ----


def test_the_token_is_a_presigned_connect_request_for_the_group_and_user(aws_credentials):
    user, token = ElastiCacheIAMProvider(USER, GROUP.upper(), REGION).get_credentials()

    assert user == USER
    parts = urlsplit(f"http://{token}")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.hostname == GROUP  # the replication group ID, lowercase, not an endpoint
    assert (query["Action"], query["User"]) == ("connect", USER)
    assert query["X-Amz-Expires"] == "900"  # ElastiCache accepts a token for 15 minutes
    assert query["X-Amz-Credential"].startswith("AKIDTESTING/")
    assert query["X-Amz-Credential"].endswith(f"/{REGION}/elasticache/aws4_request")
    assert query["X-Amz-Security-Token"] == "session-testing"
    assert len(query["X-Amz-Signature"]) == 64
    assert not token.startswith("http")


# ---- Against a server that checks it ----


@pytest.fixture
def acl_redis(tmp_path):
    """redis-server on a free port: default user off, USER on with password "token-1"."""
    binary = shutil.which("redis-server")
    require(binary is not None, "redis-server is not installed")
    port = free_port()
    conf = tmp_path / "redis.conf"
    conf.write_text(
        f'port {port}\nbind 127.0.0.1\nsave ""\nappendonly no\ndir {tmp_path}\n'
        "user default off\n"
        f"user {USER} on >token-1 ~* +@all\n"
        "user admin on >admin-password ~* +@all\n"
    )
    proc = subprocess.Popen(
        [binary, str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        wait_for_port(port)
        admin = redis.Redis(port=port, username="admin", password="admin-password")
        yield port, admin
    finally:
        stop_process_group(proc)


class FakeSigner(ElastiCacheIAMProvider):
    """The real provider with a predictable token: token-1, token-2, ..."""

    def __init__(self):
        super().__init__(USER, GROUP, REGION)
        self.issued: list[str] = []

    def token(self) -> str:
        self.issued.append(f"token-{len(self.issued) + 1}")
        return self.issued[-1]


def django_cache(port: int, provider) -> RedisCache:
    return RedisCache(
        f"redis://127.0.0.1:{port}/0",
        {"OPTIONS": {"credential_provider": provider, "socket_timeout": 3}},
    )


def test_the_cache_logs_in_with_the_token_and_signs_one_per_connection(acl_redis):
    port, admin = acl_redis
    provider = FakeSigner()
    cache = django_cache(port, provider)

    cache.set("greeting", "こんにちは", 60)
    assert cache.get("greeting") == "こんにちは"
    assert provider.issued == ["token-1"]  # one connection so far, kept in the pool

    # What ElastiCache does after 12 hours: it closes the connection. redis-py reconnects
    # (its default retry) with a new token, and the call in flight still succeeds.
    admin.execute_command("ACL", "SETUSER", USER, "resetpass", ">token-2")
    admin.execute_command("CLIENT", "KILL", "USER", USER)
    assert cache.get("greeting") == "こんにちは"
    assert provider.issued == ["token-1", "token-2"]


def test_a_token_the_server_does_not_accept_is_refused(acl_redis):
    port, admin = acl_redis
    provider = FakeSigner()
    provider.issued.append("token-1")  # the next one signed is token-2: not what it expects
    with pytest.raises(redis.AuthenticationError):
        django_cache(port, provider).get("anything")


def test_without_a_token_nothing_is_reachable(acl_redis):
    port, _admin = acl_redis
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port).get("greeting")


# ---- Settings ----


def _cache_settings(**env) -> dict:
    script = (
        "import json; from django.conf import settings; o = settings.CACHES['default']['OPTIONS']; "
        "p = o.get('credential_provider'); print(json.dumps(None if p is None else "
        "{'class': type(p).__name__, 'user': p.user, 'cache': p.cache_name, 'region': p.region}))"
    )
    result = subprocess.run(
        [PYTHON, "-c", script],
        cwd=APP_DIR,
        env={"PATH": "/usr/bin:/bin", "SECRET_KEY": "x" * 60,
             "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    return {"code": result.returncode, "err": result.stderr, "out": result.stdout}


def test_settings_give_the_cache_the_iam_provider():
    result = _cache_settings(
        REDIS_URL="rediss://master.todo.cache.amazonaws.com:6379/0",
        REDIS_IAM_USER=USER,
        REDIS_IAM_CACHE_NAME=GROUP,
        AWS_REGION=REGION,
    )
    assert json.loads(result["out"]) == {
        "class": "ElastiCacheIAMProvider", "user": USER, "cache": GROUP, "region": REGION,
    }  # fmt: skip
    plain = _cache_settings(REDIS_URL="rediss://master.todo.cache.amazonaws.com:6379/0")
    assert json.loads(plain["out"]) is None


@pytest.mark.parametrize(
    "env",
    [
        {"REDIS_URL": "redis://cache:6379/0", "REDIS_IAM_CACHE_NAME": GROUP, "AWS_REGION": REGION},
        {"REDIS_URL": "rediss://cache:6379/0", "AWS_REGION": REGION},
        {"REDIS_URL": "rediss://cache:6379/0", "REDIS_IAM_CACHE_NAME": GROUP},
    ],
)
def test_settings_refuse_iam_without_tls_group_or_region(env):
    result = _cache_settings(REDIS_IAM_USER=USER, **env)
    assert result["code"] != 0
    assert "REDIS_IAM_USER needs" in result["err"]
