from django.db import migrations, models
from django.db.models import F


def events_sent_as_processed(apps, schema_editor):
    """Jobs accepted before: their runners sent each chunk's events right after its commit."""
    jobs = apps.get_model("contacts", "BulkJob").objects.filter(status__in=["queued", "running"])
    jobs.update(events_sent=F("processed"))  # finished jobs never resume


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0013_bulk_job_owner'),
    ]

    operations = [
        migrations.AddField(
            model_name='bulkjob',
            name='events_sent',
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(events_sent_as_processed, migrations.RunPython.noop),
    ]
