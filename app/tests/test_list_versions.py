"""The user and the list page served from the cache (todo/versions.py, todo/auth_backend.py):
no query when nothing changed, and still never a stale page, another user's rows or a session
that outlives a password change."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.urls import reverse

from config import cache as resilient
from tests.conftest import PASSWORD
from tests.private_services import PrivateRedis
from tests.test_list_cache import titles
from todo.models import Todo

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("count", [10, 100])
def test_a_list_page_seen_before_costs_no_query(
    auth_client, user, count, django_assert_num_queries
):
    Todo.objects.bulk_create(Todo(owner=user, title=f"t{i}") for i in range(count))
    auth_client.get("/?status=open")
    with django_assert_num_queries(0):
        assert auth_client.get("/?status=open").status_code == 200


def test_any_logged_in_page_reads_the_user_from_the_cache(auth_client, django_assert_num_queries):
    auth_client.get("/todos/new/")
    with django_assert_num_queries(0):
        assert auth_client.get("/todos/new/").status_code == 200


def test_a_flash_message_shows_once_and_is_never_kept(auth_client, user, make_todo):
    make_todo(user, "一つ目")
    auth_client.get("/")
    response = auth_client.post("/todos/new/", {"title": "二つ目", "notes": ""}, follow=True)
    assert "TODO を追加しました。" in response.content.decode()
    for _ in range(2):  # the page without the message, then the same from the cache
        page = auth_client.get("/").content.decode()
        assert "TODO を追加しました。" not in page
        assert set(titles(auth_client.get("/"))) == {"一つ目", "二つ目"}


def test_a_password_change_still_ends_the_other_sessions(user):
    laptop, phone = logged_in(user), logged_in(user)
    for client in (laptop, phone):  # both now hold the user in the cache
        assert client.get("/").status_code == 200
    new = "another-horse-battery-staple-43"
    response = laptop.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200  # the session that changed it stays
    response = phone.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_deactivated_user_is_logged_out_at_once(user):
    client = logged_in(user)
    assert client.get("/").status_code == 200
    user.is_active = False
    user.save()
    assert client.get("/").status_code == 302


def test_a_write_in_another_session_shows_at_once(user, make_todo):
    todo = make_todo(user, "牛乳")
    tab, other_device = logged_in(user), logged_in(user)
    assert titles(tab.get("/?status=open")) == ["牛乳"]
    other_device.post(reverse("todo:toggle", args=[todo.pk]))
    assert titles(tab.get("/?status=open")) == []
    assert titles(tab.get("/?status=done")) == ["牛乳"]


def test_the_purge_batch_shows_at_once(auth_client, user, make_todo):
    make_todo(user, "残す")
    make_todo(user, "消える", done=True)
    assert set(titles(auth_client.get("/"))) == {"残す", "消える"}
    call_command("purge_done_todos", days=0)
    assert titles(auth_client.get("/")) == ["残す"]


@pytest.mark.django_db(transaction=True)
def test_a_read_racing_a_commit_keeps_nothing_stale(user, make_todo):
    from todo import fragments, versions

    client = logged_in(user)
    make_todo(user, "一つ目")
    assert titles(client.get("/")) == ["一つ目"]
    with transaction.atomic():
        make_todo(user, "二つ目")
        # Another task reads between the write and its commit: it sees one TODO, and stores
        # that under the token current at that moment.
        versions.cached(fragments.stats_key(user.pk), user.pk, lambda: fragments.Counts(1, 1))
    assert set(titles(client.get("/"))) == {"一つ目", "二つ目"}


def test_with_the_cache_down_every_page_is_read_fresh(user, make_todo, settings, monkeypatch):
    monkeypatch.setattr(resilient, "_availability", {})
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing answers there
            "RETRY_AFTER": 60,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    client = logged_in(user)
    make_todo(user, "一つ目")
    assert titles(client.get("/")) == ["一つ目"]
    make_todo(user, "二つ目")
    assert set(titles(client.get("/"))) == {"一つ目", "二つ目"}


def test_a_write_during_a_cache_outage_is_not_served_stale_afterwards(
    user, make_todo, settings, monkeypatch
):
    server = PrivateRedis()
    try:
        server.start()
        monkeypatch.setattr(resilient, "_availability", {})
        settings.CACHES = {
            "default": {
                "BACKEND": "config.cache.ResilientRedisCache",
                "LOCATION": server.url,
                "RETRY_AFTER": 60,
                "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            }
        }
        client = logged_in(user)
        todo = make_todo(user, "牛乳")
        assert titles(client.get("/?status=open")) == ["牛乳"]  # cached, under a token
        server.stop()
        todo.done = True
        todo.save()  # the token's delete is dropped: the old token comes back with Redis
        server.start()
        resilient.availability_of(server.url).retry_at = 0.0
        assert titles(client.get("/?status=open")) == []
    finally:
        server.remove()
