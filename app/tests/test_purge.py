import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from todo.models import Todo

pytestmark = pytest.mark.django_db


@pytest.fixture
def aged(make_todo, user):
    def make(title: str, *, done: bool, days_ago: float):
        todo = make_todo(user, title, done=done)
        # auto_now would overwrite updated_at on save(); update() sets it as the past would.
        Todo.objects.filter(pk=todo.pk).update(updated_at=timezone.now() - timedelta(days=days_ago))
        return todo

    return make


def titles():
    return set(Todo.objects.values_list("title", flat=True))


def test_removes_old_done_and_keeps_recent_done_and_open(aged):
    aged("old done", done=True, days_ago=31)
    aged("recent done", done=True, days_ago=29)
    aged("old open", done=False, days_ago=90)
    call_command("purge_done_todos")
    assert titles() == {"recent done", "old open"}


def test_days_option_moves_the_cutoff(aged):
    aged("8 days", done=True, days_ago=8)
    aged("6 days", done=True, days_ago=6)
    call_command("purge_done_todos", "--days", "7")
    assert titles() == {"6 days"}


def test_running_twice_removes_nothing_more(aged, caplog):
    aged("old done", done=True, days_ago=40)
    aged("open", done=False, days_ago=40)
    call_command("purge_done_todos")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="todo.batch"):
        call_command("purge_done_todos")
    assert titles() == {"open"}
    assert [r.removed for r in caplog.records if r.name == "todo.batch"] == [0]


def test_logs_how_many_it_removed(aged, caplog):
    for i in range(3):
        aged(f"old {i}", done=True, days_ago=45)
    with caplog.at_level(logging.INFO, logger="todo.batch"):
        call_command("purge_done_todos", "--days", "30")
    (record,) = [r for r in caplog.records if r.name == "todo.batch"]
    assert record.event == "purge_done_todos"
    assert record.removed == 3
    assert record.days == 30


def test_dry_run_deletes_nothing(aged, caplog):
    aged("old done", done=True, days_ago=45)
    with caplog.at_level(logging.INFO, logger="todo.batch"):
        call_command("purge_done_todos", "--dry-run")
    assert titles() == {"old done"}
    assert caplog.records[-1].removed == 1


def test_negative_days_is_refused():
    with pytest.raises(CommandError):
        call_command("purge_done_todos", "--days", "-1")
