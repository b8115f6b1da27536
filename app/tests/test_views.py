import re

import pytest
from django.test import Client

from todo.models import Todo

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/todos/new/", "/todos/1/edit/", "/todos/1/delete/"])
def test_pages_redirect_anonymous_users_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


def test_toggle_redirects_anonymous_users_to_login(client, user, make_todo):
    todo = make_todo(user)
    response = client.post(f"/todos/{todo.pk}/toggle/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    todo.refresh_from_db()
    assert todo.done is False


def test_list_shows_only_the_users_own_todos(auth_client, user, other_user, make_todo):
    make_todo(user, "自分のタスク")
    make_todo(other_user, "他人のタスク")
    content = auth_client.get("/").content.decode()
    assert "自分のタスク" in content
    assert "他人のタスク" not in content


def test_list_page_is_japanese(auth_client):
    response = auth_client.get("/")
    assert response.status_code == 200
    assert '<html lang="ja">' in response.content.decode()
    assert "TODO はありません" in response.content.decode()


def test_create_sets_the_owner(auth_client, user):
    response = auth_client.post("/todos/new/", {"title": "本を返す", "notes": "図書館"})
    assert response.status_code == 302
    todo = Todo.objects.get()
    assert (todo.owner, todo.title, todo.notes, todo.done) == (user, "本を返す", "図書館", False)


def test_create_form_field_is_named_title(auth_client):
    assert 'name="title"' in auth_client.get("/todos/new/").content.decode()


def test_edit_changes_the_todo(auth_client, user, make_todo):
    todo = make_todo(user, "古い")
    response = auth_client.post(f"/todos/{todo.pk}/edit/", {"title": "新しい", "done": "on"})
    assert response.status_code == 302
    todo.refresh_from_db()
    assert (todo.title, todo.done) == ("新しい", True)


def test_toggle_marks_done_then_open_again(auth_client, user, make_todo):
    todo = make_todo(user)
    auth_client.post(f"/todos/{todo.pk}/toggle/")
    todo.refresh_from_db()
    assert todo.done is True
    auth_client.post(f"/todos/{todo.pk}/toggle/")
    todo.refresh_from_db()
    assert todo.done is False


def test_toggle_answers_405_to_get(auth_client, user, make_todo):
    todo = make_todo(user)
    response = auth_client.get(f"/todos/{todo.pk}/toggle/")
    assert response.status_code == 405
    todo.refresh_from_db()
    assert todo.done is False


def test_toggle_returns_to_the_filtered_page(auth_client, user, make_todo):
    todo = make_todo(user)
    response = auth_client.post(f"/todos/{todo.pk}/toggle/", {"next": "/?status=open"})
    assert response["Location"] == "/?status=open"


def test_toggle_never_redirects_off_site(auth_client, user, make_todo):
    todo = make_todo(user)
    response = auth_client.post(f"/todos/{todo.pk}/toggle/", {"next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_delete_get_shows_a_confirmation_and_keeps_the_todo(auth_client, user, make_todo):
    todo = make_todo(user, "消すもの")
    response = auth_client.get(f"/todos/{todo.pk}/delete/")
    assert response.status_code == 200
    assert "削除しますか" in response.content.decode()
    assert Todo.objects.filter(pk=todo.pk).exists()


def test_delete_post_removes_the_todo(auth_client, user, make_todo):
    todo = make_todo(user)
    response = auth_client.post(f"/todos/{todo.pk}/delete/")
    assert response.status_code == 302
    assert not Todo.objects.filter(pk=todo.pk).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "edit"), ("post", "edit"), ("post", "toggle"), ("get", "delete"), ("post", "delete")],
)
def test_another_users_todo_is_not_found(auth_client, other_user, make_todo, method, path):
    todo = make_todo(other_user, "他人のタスク")
    response = getattr(auth_client, method)(f"/todos/{todo.pk}/{path}/", {"title": "乗っ取り"})
    assert response.status_code == 404
    todo.refresh_from_db()
    assert (todo.title, todo.done) == ("他人のタスク", False)


def test_post_without_csrf_token_is_rejected(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/todos/new/", {"title": "偽のリクエスト"})
    assert response.status_code == 403
    assert not Todo.objects.exists()


def test_post_with_csrf_token_is_accepted(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/todos/new/")
    token = client.cookies["csrftoken"].value
    response = client.post("/todos/new/", {"title": "正規", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Todo.objects.filter(title="正規").exists()


def test_titles_are_html_escaped(auth_client, user, make_todo):
    make_todo(user, "<script>alert('x')</script>")
    content = auth_client.get("/").content.decode()
    assert "<script>alert" not in content
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in content


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("all", {"open", "done"}),
        ("open", {"open"}),
        ("done", {"done"}),
        ("bogus", {"open", "done"}),
    ],
)
def test_status_filter(auth_client, user, make_todo, status, expected):
    make_todo(user, "open")
    make_todo(user, "done", done=True)
    response = auth_client.get("/", {"status": status})
    assert {t.title for t in response.context["todos"]} == expected


def test_list_is_paginated_by_20(auth_client, user, make_todo):
    for i in range(25):
        make_todo(user, f"task {i}")
    first = auth_client.get("/")
    second = auth_client.get("/", {"page": 2})
    assert len(first.context["todos"]) == 20
    assert len(second.context["todos"]) == 5
    assert 'rel="next"' in first.content.decode()


def test_pagination_keeps_the_filter(auth_client, user, make_todo):
    for i in range(21):
        make_todo(user, f"open {i}")
    make_todo(user, "done", done=True)
    response = auth_client.get("/", {"status": "open"})
    assert "?status=open&amp;page=2" in response.content.decode()
    assert response.context["page_obj"].paginator.count == 21


def test_logout_is_post_only(auth_client):
    assert auth_client.get("/accounts/logout/").status_code == 405
    response = auth_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert auth_client.get("/").status_code == 302


def test_unknown_page_is_a_friendly_404(auth_client):
    response = auth_client.get("/no-such-page/")
    assert response.status_code == 404
    assert "お探しのページは見つかりませんでした" in response.content.decode()


def test_stylesheet_is_linked_with_a_hashed_name(client):
    content = client.get("/accounts/login/").content.decode()
    assert re.search(r'href="/static/todo/style\.[0-9a-f]{12}\.css"', content)


def test_toggling_the_last_row_of_the_last_page_comes_back_to_a_page(auth_client, user, make_todo):
    for i in range(20):
        make_todo(user, f"open {i}")
    last = make_todo(user, "最後の一つ")
    page = auth_client.get("/", {"status": "open", "page": 2})
    assert [t.title for t in page.context["todos"]] == ["open 0"]  # newest first
    todo = page.context["todos"][0]
    response = auth_client.post(
        f"/todos/{todo.pk}/toggle/", {"next": "/?status=open&page=2"}, follow=True
    )
    assert response.status_code == 200
    # Page 2 is gone: the last page that exists, page 1, with the rest.
    assert response.context["page_obj"].number == 1
    assert len(response.context["todos"]) == 20
    assert last in response.context["todos"]


@pytest.mark.parametrize(("page", "shown"), [("99", 2), ("last", 2), ("0", 1), ("abc", 1)])
def test_a_page_that_does_not_exist_shows_the_nearest(auth_client, user, make_todo, page, shown):
    for i in range(25):
        make_todo(user, f"task {i}")
    response = auth_client.get("/", {"page": page})
    assert response.status_code == 200
    assert response.context["page_obj"].number == shown
