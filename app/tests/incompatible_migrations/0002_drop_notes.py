from django.db import migrations


class Migration(migrations.Migration):
    # The previous release still selects `notes`: dropping it in the same release breaks every
    # page that release's tasks serve until the rollout ends, and any rollback for good.
    dependencies = [("todo", "0001_initial")]

    operations = [migrations.RemoveField(model_name="todo", name="notes")]
