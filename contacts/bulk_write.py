"""Writes a chunk's contacts in a constant number of queries.

PostgreSQL: new rows are COPYed into the table, updated rows COPYed into a temporary table
and applied by one UPDATE ... FROM. Elsewhere (SQLite, the embedded default) the ORM does
it row by row, which an in-process database does quickly enough.
"""

from django.db import connection
from django.db.models import TextField, Value
from django.db.models.functions import Cast, Concat
from psycopg.types.json import Jsonb

from .models import Contact

COLUMNS = [f.attname for f in Contact._meta.concrete_fields]
_UPDATED_COLUMNS = [c for c in COLUMNS if c not in ("id", "account_id", "created_at")]


def contacts_write(*, created: list[dict], updated: list[dict], moved: list[dict], now) -> None:
    """Insert `created`, update `updated` (full rows); `moved` are updated rows whose
    email or LinkedIn key changed, parked first so that no intermediate state breaks a
    unique constraint."""
    for contact in created:
        contact["created_at"] = contact["updated_at"] = now
    for contact in updated:
        contact["updated_at"] = now
    if moved:
        parked = Concat(Value("~moving~"), Cast("id", TextField()))
        Contact.objects.filter(pk__in=[c["id"] for c in moved]).update(email_key=parked, linkedin_key=parked)
    if connection.vendor == "postgresql":
        _write_postgres(created, updated)
    else:
        _write_orm(created, updated)


def _write_postgres(created: list[dict], updated: list[dict]) -> None:
    table = Contact._meta.db_table
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        if updated:
            cursor.execute(f"CREATE TEMP TABLE contact_update (LIKE {table}) ON COMMIT DROP")
            _copy(cursor, "contact_update", columns, updated)
            assignments = ", ".join(f"{c} = u.{c}" for c in _UPDATED_COLUMNS)
            cursor.execute(f"UPDATE {table} AS c SET {assignments} FROM contact_update AS u WHERE c.id = u.id")
            cursor.execute("DROP TABLE contact_update")
        if created:
            _copy(cursor, table, columns, created)


def _copy(cursor, table: str, columns: str, contacts: list[dict]) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for contact in contacts:
            copy.write_row([Jsonb(contact[c]) if c == "vars" else contact.get(c) for c in COLUMNS])


def _write_orm(created: list[dict], updated: list[dict]) -> None:
    for contact in updated:
        Contact.objects.filter(pk=contact["id"]).update(**{c: contact[c] for c in _UPDATED_COLUMNS})
    Contact.objects.bulk_create([Contact(**{c: contact.get(c) for c in COLUMNS}) for contact in created], batch_size=500)
