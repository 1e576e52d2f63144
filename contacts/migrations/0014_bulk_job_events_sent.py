from django.db import migrations, models
from django.db.models import F


def events_sent_as_processed(apps, schema_editor):
    """Jobs accepted before: their runners sent each chunk's events right after its commit."""
    apps.get_model("contacts", "BulkJob").objects.update(events_sent=F("processed"))


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
