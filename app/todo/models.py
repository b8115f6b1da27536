from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.db.models.signals import post_delete, post_save

from todo import versions

# Notes are shown in the list page, whose markup is cached per page: a bound on each row bounds
# what a page can put in the cache. The form refuses more (max_length); the database, through
# a CHECK, refuses it from any other writer.
NOTES_MAX_LENGTH = 2000


class Todo(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="todos",
        verbose_name="所有者",
    )
    title = models.CharField("タイトル", max_length=200)
    notes = models.TextField("メモ", blank=True, max_length=NOTES_MAX_LENGTH)
    done = models.BooleanField("完了", default=False)
    created_at = models.DateTimeField("作成日時", auto_now_add=True)
    updated_at = models.DateTimeField("更新日時", auto_now=True)

    class Meta:
        ordering = ["done", "-created_at", "-id"]
        verbose_name = "TODO"
        verbose_name_plural = "TODO"
        indexes = [
            # The list page filters by owner and done; the purge batch by done and updated_at.
            models.Index(fields=["owner", "done", "-created_at"], name="todo_owner_done_idx"),
            models.Index(fields=["done", "updated_at"], name="todo_done_updated_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("notes"), NOTES_MAX_LENGTH),
                name="todo_notes_length",
            ),
        ]

    def __str__(self) -> str:
        return self.title


def _replace_versions(sender, instance, **kwargs) -> None:
    """A saved or deleted user or TODO: what is cached for that user is out of date
    (todo/versions.py). QuerySet.delete() sends post_delete per row; update() and bulk_create()
    send nothing, and their callers bump the owners' versions themselves."""
    versions.bump([instance.owner_id if isinstance(instance, Todo) else instance.pk])


for _name, _signal in (("saved", post_save), ("deleted", post_delete)):
    _signal.connect(_replace_versions, sender=Todo, dispatch_uid=f"versions-todo-{_name}")
    # The user: its password hash is what ends other sessions after a password change.
    _signal.connect(
        _replace_versions, sender=settings.AUTH_USER_MODEL, dispatch_uid=f"versions-user-{_name}"
    )
