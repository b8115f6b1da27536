"""Bounds `notes` (todo.models.NOTES_MAX_LENGTH): expand-compatible, as every migration here.

The field change only touches the form (PostgreSQL's `text` has no length). The CHECK is added
NOT VALID on PostgreSQL: it holds for every row written from now on, the ALTER never scans the
table under its ACCESS EXCLUSIVE lock, and rows written before it (which the previous release
allowed) stay readable instead of failing the migration. ("ALTER TABLE", PostgreSQL docs.)
"""

import django.db.models.functions.text
import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models


class AddConstraintNotValid(migrations.AddConstraint):
    """AddConstraint, NOT VALID on PostgreSQL (Django's own form elsewhere, e.g. SQLite)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            statement = self.constraint.create_sql(model, schema_editor)
            schema_editor.execute(f"{statement} NOT VALID")


class Migration(migrations.Migration):

    dependencies = [
        ('todo', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='todo',
            name='notes',
            field=models.TextField(blank=True, max_length=2000, verbose_name='メモ'),
        ),
        AddConstraintNotValid(
            model_name='todo',
            constraint=models.CheckConstraint(condition=django.db.models.lookups.LessThanOrEqual(django.db.models.functions.text.Length('notes'), 2000), name='todo_notes_length'),
        ),
    ]
