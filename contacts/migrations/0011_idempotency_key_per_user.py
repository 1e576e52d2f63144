import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def keys_of_their_jobs_users(apps, schema_editor):
    """A key stored before keys were per user is the key of the user who posted its job."""
    IdempotencyKey = apps.get_model("contacts", "IdempotencyKey")
    BulkJob = apps.get_model("contacts", "BulkJob")
    IdempotencyKey.objects.update(user_id=Subquery(BulkJob.objects.filter(pk=OuterRef("job_id")).values("user_id")))


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0010_bulk_job_kept_while_unfinished"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencykey",
            name="user",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.RunPython(keys_of_their_jobs_users, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="idempotencykey",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.RemoveConstraint(model_name="idempotencykey", name="idempotency_key_unique_per_account"),
        migrations.AddConstraint(
            model_name="idempotencykey",
            constraint=models.UniqueConstraint(fields=("account", "user", "key"), name="idempotency_key_unique_per_user"),
        ),
    ]
