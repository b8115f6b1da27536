"""The list page's cached rows (todo/fragments.py): never stale, never shared, fewer queries."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from todo.models import Todo

pytestmark = pytest.mark.django_db


def titles(response) -> list[str]:
    return re.findall(r'<span class="todo-title">([^<]*)</span>', response.content.decode())


@pytest.mark.parametrize("count", [10, 100, 1000])
def test_at_most_three_queries_per_list_page(
    auth_client, user, count, django_assert_max_num_queries
):
    Todo.objects.bulk_create(Todo(owner=user, title=f"t{i}") for i in range(count))
    auth_client.get("/")  # the session is read once from the database, then from the cache
    path = "/?status=open" + ("&page=2" if count > 20 else "")
    with django_assert_max_num_queries(3):
        assert auth_client.get(path).status_code == 200  # a miss
    with django_assert_max_num_queries(2):
        assert auth_client.get(path).status_code == 200  # a hit


def test_every_kind_of_write_shows_at_once(auth_client, user, make_todo):
    first = make_todo(user, "一つ目")
    assert titles(auth_client.get("/")) == ["一つ目"]
    auth_client.post("/todos/new/", {"title": "二つ目", "notes": ""})
    assert set(titles(auth_client.get("/"))) == {"一つ目", "二つ目"}
    auth_client.post(reverse("todo:edit", args=[first.pk]), {"title": "改", "notes": ""})
    assert "改" in titles(auth_client.get("/"))
    auth_client.post(reverse("todo:toggle", args=[first.pk]))
    assert "改" in titles(auth_client.get("/?status=done"))
    assert "改" not in titles(auth_client.get("/?status=open"))
    auth_client.post(reverse("todo:delete", args=[first.pk]))
    assert titles(auth_client.get("/")) == ["二つ目"]
    Todo.objects.filter(owner=user).delete()  # outside the views, as the purge batch does
    assert titles(auth_client.get("/")) == []


def test_a_page_is_never_another_users(client, make_user, make_todo):
    alice, bob = make_user(), make_user()
    make_todo(alice, "alice のもの")
    make_todo(bob, "bob のもの")
    client.force_login(alice)
    assert titles(client.get("/")) == ["alice のもの"]
    client.force_login(bob)
    assert titles(client.get("/")) == ["bob のもの"]


def test_the_cached_forms_carry_a_token_that_works_after_a_new_login(make_todo):
    user = get_user_model().objects.create_user("carol", password=PASSWORD)
    todo = make_todo(user, "牛乳")
    for _ in range(2):  # the second login comes with a new CSRF secret
        client = Client(enforce_csrf_checks=True)
        page = client.get("/accounts/login/").content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)[1]
        client.post("/accounts/login/", {"username": "carol", "password": PASSWORD,
                                          "csrfmiddlewaretoken": token})  # fmt: skip
        client.get("/")
        listing = client.get("/").content.decode()  # from the cache the second time
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', listing)[1]
        response = client.post(
            reverse("todo:toggle", args=[todo.pk]), {"csrfmiddlewaretoken": token}
        )
        assert response.status_code == 302


def test_a_query_string_of_the_clients_own_adds_no_cache_entry(auth_client, user, settings):
    from django.core.cache import caches

    # Local memory, whose entries can be counted; the key is the backend's business only.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "z"}
    }
    Todo.objects.bulk_create(Todo(owner=user, title=f"t{i}", notes="x" * 2000) for i in range(25))
    auth_client.get("/")  # the session, now in the cache too
    before = len(caches["default"]._cache)
    for number in range(20):
        page = auth_client.get(f"/?status=open&page=2&z={number}").content.decode()
        assert 'name="next" value="/?status=open&amp;page=2"' in page
    # One entry for the page, however many query strings named it.
    assert len(caches["default"]._cache) == before + 1


def test_two_releases_never_serve_each_others_markup(auth_client, user, make_todo, settings):
    from django.core.cache import cache
    from django.utils.safestring import mark_safe

    from todo import fragments

    make_todo(user, "本物")
    settings.RELEASE_ID = "release-a"
    auth_client.get("/")
    key = fragments.key(user.pk, "all", 1)
    validator, _html = cache.get(key)
    # Markup only release-a would render, stored where release-a keeps it.
    cache.set(key, (validator, mark_safe('<span class="todo-title">旧版の行</span>')), 60)
    assert titles(auth_client.get("/")) == ["旧版の行"]
    settings.RELEASE_ID = "release-b"
    assert titles(auth_client.get("/")) == ["本物"]
