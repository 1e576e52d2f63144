import contacts.models
from contacts.payload import StoredRows
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def protect_owners_of_unfinished_jobs(apps, schema_editor):
    """The owners named by the jobs accepted before this migration and still to run."""
    BulkJob = apps.get_model("contacts", "BulkJob")
    BulkJobOwner = apps.get_model("contacts", "BulkJobOwner")
    User = apps.get_model(settings.AUTH_USER_MODEL)
    for job in BulkJob.objects.filter(status__in=["queued", "running"]).only("id", "payload").iterator():
        try:
            stored = StoredRows(job.payload)
            named = set(stored.owners.values()) or {  # payloads of the oldest shape: rows carry owner_id
                row["owner_id"] for i in range(len(stored.counts)) for row in stored.piece(i) if row.get("owner_id")
            }
        except Exception:  # a payload that cannot be read fails its job when it runs; nothing to protect
            continue
        existing = User.objects.filter(pk__in=named).values_list("pk", flat=True)
        BulkJobOwner.objects.bulk_create([BulkJobOwner(job_id=job.pk, user_id=pk) for pk in existing])


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0012_bulk_job_stalled_resumes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BulkJobOwner',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='contacts.bulkjob')),
                ('user', models.ForeignKey(on_delete=contacts.models._cascade_unless_job_unfinished, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('job', 'user'), name='bulk_job_owner_unique')],
            },
        ),
        migrations.RunPython(protect_owners_of_unfinished_jobs, migrations.RunPython.noop),
    ]
