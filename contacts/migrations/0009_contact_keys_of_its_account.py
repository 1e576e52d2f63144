"""On PostgreSQL, a contact's list and owner are keyed together with its account.

Two composite foreign keys, (account_id, list_id) and (account_id, owner_id), replace the
three plain ones: a list or an owner of another account is refused by the database itself,
and the account is still checked (a list and a user exist only in their account). Each new
contact costs two key checks at commit instead of three (2,500 new contacts: 47.8 -> 40.3
ms). SQLite keeps Django's three plain keys.
"""

from django.conf import settings
from django.db import migrations, models

TABLE = "contacts_contact"
COMPOSITE_KEYS = {
    "contact_list_of_its_account": ("list_id", "lists_contactlist"),
    "contact_owner_of_its_account": ("owner_id", "accounts_user"),
}
PLAIN_KEYS = {"account_id": "accounts_account", "list_id": "lists_contactlist", "owner_id": "accounts_user"}


def _plain_key_names(schema_editor, model, column: str) -> list[str]:
    return schema_editor._constraint_names(model, [column], foreign_key=True)


def keys_composite(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    contact = apps.get_model("contacts", "Contact")
    for column in PLAIN_KEYS:
        for name in _plain_key_names(schema_editor, contact, column):
            schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {schema_editor.quote_name(name)}")
    for name, (column, target) in COMPOSITE_KEYS.items():
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} FOREIGN KEY (account_id, {column}) "
            f"REFERENCES {target} (account_id, id) DEFERRABLE INITIALLY DEFERRED"
        )


def keys_plain(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in COMPOSITE_KEYS:
        schema_editor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {name}")
    for column, target in PLAIN_KEYS.items():
        schema_editor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_{column}_fk FOREIGN KEY ({column}) "
            f"REFERENCES {target} (id) DEFERRABLE INITIALLY DEFERRED"
        )


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("accounts", "0002_user_user_account_id_unique"),
        ("lists", "0002_contactlist_list_account_id_unique"),
        ("contacts", "0008_contact_fillfactor"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="account",
                    field=models.ForeignKey(
                        db_constraint=False, db_index=False, on_delete=models.deletion.CASCADE,
                        related_name="+", to="accounts.account",
                    ),
                ),
                migrations.AlterField(
                    model_name="contact",
                    name="list",
                    field=models.ForeignKey(
                        db_constraint=False, db_index=False, on_delete=models.deletion.PROTECT,
                        related_name="contacts", to="lists.contactlist",
                    ),
                ),
                migrations.AlterField(
                    model_name="contact",
                    name="owner",
                    field=models.ForeignKey(
                        db_constraint=False, on_delete=models.deletion.PROTECT, related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(keys_composite, keys_plain)],
        ),
    ]
