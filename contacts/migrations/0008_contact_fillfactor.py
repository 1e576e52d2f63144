"""Contacts are updated far more often than inserted: with half of each page left free,
PostgreSQL can write an updated row beside the old one (a HOT update) and skip all six
indexes, which unchanged keys, list and owner allow. Pages written from now on keep it."""

from django.db import migrations

FILLFACTOR = 50


def fillfactor_set(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE contacts_contact SET (fillfactor = {FILLFACTOR})")


def fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE contacts_contact RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0007_contact_drop_redundant_fk_indexes")]

    operations = [migrations.RunPython(fillfactor_set, fillfactor_reset)]
