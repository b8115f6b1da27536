import pytest

from todo.forms import TodoForm


def test_title_is_required():
    form = TodoForm(data={"title": "", "notes": ""})
    assert not form.is_valid()
    assert "title" in form.errors


def test_title_of_200_characters_is_accepted():
    form = TodoForm(data={"title": "あ" * 200})
    assert form.is_valid(), form.errors


def test_title_of_201_characters_is_a_form_error():
    form = TodoForm(data={"title": "あ" * 201})
    assert not form.is_valid()
    assert "200" in form.errors["title"][0]


@pytest.mark.django_db
def test_too_long_title_is_shown_on_the_page(auth_client):
    response = auth_client.post("/todos/new/", {"title": "x" * 201})
    assert response.status_code == 200
    assert "200 文字以下" in response.content.decode()
