from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]

    operations = [
        migrations.RemoveField(model_name="bulkjob", name="rows"),
        migrations.AddField(
            model_name="bulkjob",
            name="payload",
            field=models.BinaryField(editable=False, default=b""),
            preserve_default=False,
        ),
    ]
