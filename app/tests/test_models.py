from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from todo.models import Todo

pytestmark = pytest.mark.django_db


def test_new_todo_is_open_with_timestamps(user):
    todo = Todo.objects.create(owner=user, title="資料を作る")
    assert todo.done is False
    assert todo.notes == ""
    assert timezone.now() - todo.created_at < timedelta(seconds=5)
    assert todo.updated_at >= todo.created_at


def test_str_is_the_title(user):
    assert str(Todo(owner=user, title="電話する")) == "電話する"


def test_title_longer_than_200_characters_is_invalid(user):
    todo = Todo(owner=user, title="あ" * 201)
    with pytest.raises(ValidationError) as excinfo:
        todo.full_clean()
    assert "title" in excinfo.value.message_dict


def test_saving_moves_updated_at_forward(user):
    todo = Todo.objects.create(owner=user, title="a")
    Todo.objects.filter(pk=todo.pk).update(updated_at=timezone.now() - timedelta(days=3))
    todo.refresh_from_db()
    before = todo.updated_at
    todo.done = True
    todo.save()
    assert todo.updated_at > before


def test_open_todos_are_listed_before_done_ones(user):
    Todo.objects.create(owner=user, title="done", done=True)
    Todo.objects.create(owner=user, title="open")
    assert [t.title for t in Todo.objects.all()] == ["open", "done"]


def test_deleting_a_user_deletes_their_todos(user):
    Todo.objects.create(owner=user, title="a")
    user.delete()
    assert Todo.objects.count() == 0
