"""The pieces behind the fault tests, one behaviour each: the tolerant cache, the 503 page,
and the list page's links built once per page."""

from __future__ import annotations

import pytest
import redis
from django.test import Client, override_settings
from django.urls import reverse

from config import cache as resilient
from tests.private_services import PrivateRedis
from tests.tcp_proxy import MovingEndpoint


@pytest.fixture
def redis_server():
    server = PrivateRedis()
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def tolerant(redis_server, monkeypatch):
    """A ResilientRedisCache on the private server, with its own availability record."""
    monkeypatch.setattr(resilient, "_availability", {})
    return resilient.ResilientRedisCache(
        redis_server.url,
        {
            "KEY_PREFIX": "t",
            "RETRY_AFTER": 60,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    )


def count_commands(cache, monkeypatch) -> list[str]:
    """Every command the cache sends to Redis from now on."""
    sent: list[str] = []
    client = cache._cache.get_client(None, write=True)
    real = client.execute_command

    def execute(*args, **kwargs):
        sent.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(client, "execute_command", execute)
    return sent


def test_an_unreachable_redis_reads_as_a_miss_and_drops_writes(tolerant, redis_server):
    tolerant.set("k", "v")
    assert tolerant.get("k") == "v"
    redis_server.stop()
    assert tolerant.get("k", "default") == "default"
    tolerant.set("k", "new")  # dropped, no exception
    assert tolerant.add("other", 1) is False
    assert tolerant.delete("k") is False
    assert tolerant.get_many(["k", "other"]) == {}
    assert tolerant.has_key("k") is False
    with pytest.raises(ValueError):
        tolerant.incr("counter")


def test_after_a_failure_redis_is_left_alone_until_the_retry_time(
    tolerant, redis_server, monkeypatch
):
    tolerant.set("warm", 1)
    sent = count_commands(tolerant, monkeypatch)
    redis_server.stop()
    assert tolerant.get("k") is None  # this one tries, fails, and opens the breaker
    tries = len(sent)
    for _ in range(20):
        assert tolerant.get("k") is None
        tolerant.set("k", 1)
    assert len(sent) == tries, "the cache kept calling a server it knows is down"
    monkeypatch.setattr(tolerant.availability, "retry_at", 0.0)  # the retry time has come
    tolerant.get("k")
    assert len(sent) > tries


def test_a_key_written_during_an_outage_is_not_served_stale_afterwards(tolerant, redis_server):
    tolerant.set("session", "logged in")
    redis_server.stop()
    tolerant.delete("session")  # a logout while Redis is away: the delete is dropped
    redis_server.start()  # the old value comes back with the server's data
    raw = redis.Redis.from_url(redis_server.url)
    assert raw.exists(tolerant.make_key("session")), "nothing stale to guard against"
    tolerant.availability.retry_at = 0.0
    assert tolerant.get("session") is None
    assert tolerant.availability.stale == set()
    assert tolerant.availability.down is False


def test_after_a_failover_writes_leave_the_demoted_primary_for_the_new_one(monkeypatch):
    """An ElastiCache failover: the primary endpoint now names the promoted replica, and the
    old primary, demoted to a replica, keeps the connections it had and refuses their writes.
    The cache must connect anew instead of failing every write on the old socket."""
    monkeypatch.setattr(resilient, "_availability", {})
    old, new = PrivateRedis(), PrivateRedis()
    endpoint = None
    try:
        old.start()
        new.start()
        endpoint = MovingEndpoint(old.port)
        cache = resilient.ResilientRedisCache(
            f"redis://127.0.0.1:{endpoint.port}/0",
            {
                "KEY_PREFIX": "t",
                "RETRY_AFTER": 0,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            },
        )
        cache.set("before", 1)
        assert cache.get("before") == 1

        endpoint.move_to(new.port)
        redis.Redis(port=old.port).replicaof("127.0.0.1", new.port)
        # The first write may meet the demoted primary (and is dropped); the next ones land.
        for attempt in range(3):
            cache.set("after", attempt)
        promoted = redis.Redis(port=new.port)
        assert promoted.get(cache.make_key("after")) == b"2", "writes still go to the replica"
        assert cache.get("after") == 2
    finally:
        if endpoint:
            endpoint.close()
        old.remove()
        new.remove()


@pytest.mark.django_db
def test_readiness_reports_the_tolerant_cache_down_then_up(redis_server, settings, monkeypatch):
    import json

    from todo import health

    monkeypatch.setattr(resilient, "_availability", {})
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": redis_server.url,
            "RETRY_AFTER": 0,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    assert health.readiness().status_code == 200
    redis_server.stop()
    down = health.readiness()
    assert down.status_code == 503
    assert json.loads(down.content)["failed"] == ["cache"]
    redis_server.start()
    assert health.readiness().status_code == 200


@override_settings(ROOT_URLCONF="tests.urls_outage", DEBUG=False)
@pytest.mark.django_db
def test_a_lost_database_is_a_friendly_503_page():
    response = Client(raise_request_exception=False).get("/db-down/")
    page = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "ただいま一時的にご利用いただけません" in page
    assert "Traceback" not in page and "OperationalError" not in page


@override_settings(ROOT_URLCONF="tests.urls_outage", DEBUG=False)
@pytest.mark.django_db
def test_other_errors_stay_a_500_page():
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    assert "サーバーでエラーが発生しました" in response.content.decode()


def test_the_row_links_are_the_routers_own(auth_client, user, make_todo):
    todos = [make_todo(user, f"t{i}") for i in range(3)]
    page = auth_client.get("/?status=all").content.decode()
    for todo in todos:
        for name in ("todo:toggle", "todo:edit", "todo:delete"):
            assert reverse(name, args=[todo.pk]) in page
    assert 'name="next" value="/?status=all"' in page
