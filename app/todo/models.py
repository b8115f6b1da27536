from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

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
