import pytest

from todo.forms import TodoForm

# A model form checks the model's constraints (the notes CHECK) with a query.
pytestmark = pytest.mark.django_db


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


def test_too_long_title_is_shown_on_the_page(auth_client):
    response = auth_client.post("/todos/new/", {"title": "x" * 201})
    assert response.status_code == 200
    assert "200 文字以下" in response.content.decode()


def test_notes_are_bounded():
    from todo.models import NOTES_MAX_LENGTH

    assert TodoForm(data={"title": "t", "notes": "あ" * NOTES_MAX_LENGTH}).is_valid()
    form = TodoForm(data={"title": "t", "notes": "あ" * (NOTES_MAX_LENGTH + 1)})
    assert not form.is_valid()
    assert str(NOTES_MAX_LENGTH) in form.errors["notes"][0]


def test_the_database_refuses_unbounded_notes_from_any_writer(user):
    from django.db import IntegrityError, transaction

    from todo.models import NOTES_MAX_LENGTH, Todo

    Todo.objects.create(owner=user, title="t", notes="x" * NOTES_MAX_LENGTH)
    with pytest.raises(IntegrityError), transaction.atomic():
        Todo.objects.create(owner=user, title="t", notes="x" * (NOTES_MAX_LENGTH + 1))
