"""Reads and writes a chunk's contacts in a constant number of queries.

PostgreSQL: the contacts the chunk can touch are read by one query; new rows are COPYed
into the table, updated rows COPYed into a temporary table and applied by one UPDATE ...
FROM. Elsewhere (SQLite, the embedded default) the ORM does it, row by row for updates,
which an in-process database does quickly enough.
"""

import json
from operator import itemgetter

from django.db import connection
from django.db.models import Q, TextField, Value
from django.db.models.functions import Cast, Concat

from .models import Contact

COLUMNS = [f.attname for f in Contact._meta.concrete_fields]
_UPDATED_COLUMNS = [c for c in COLUMNS if c not in ("id", "account_id", "created_at")]
_row_values = itemgetter(*COLUMNS)


def contacts_matching(account_id: int, emails: set[str], linkedins: set[str]) -> list[dict]:
    """The account's contacts holding any of these keys, as dicts of every column (on
    PostgreSQL `vars` stays JSON text until a row changes it)."""
    if connection.vendor == "postgresql":
        # One OR query reads each contact once. The keys travel as JSON arrays: encoding
        # one string costs far less than psycopg's array parameters, and since the planner
        # cannot count them it probes the two unique indexes rather than scanning every
        # contact of the account.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(COLUMNS)} FROM {Contact._meta.db_table} WHERE account_id = %s AND ("
                "email_key = ANY(ARRAY(SELECT json_array_elements_text(%s::json))) "
                "OR linkedin_key = ANY(ARRAY(SELECT json_array_elements_text(%s::json))))",
                [account_id, json.dumps(sorted(emails)), json.dumps(sorted(linkedins))],
            )
            return [dict(zip(COLUMNS, row)) for row in cursor.fetchall()]
    found: dict = {}
    for field, keys in (("email_key", sorted(emails)), ("linkedin_key", sorted(linkedins))):
        for i in range(0, len(keys), 5000):  # SQLite's bound-parameter limit
            query = Contact.objects.filter(Q(**{f"{field}__in": keys[i : i + 5000]}), account_id=account_id)
            found.update((c["id"], c) for c in query.values(*COLUMNS))
    return list(found.values())


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
            if not isinstance(contact["vars"], str):  # JSON text is COPYed as it is
                contact["vars"] = json.dumps(contact["vars"], separators=(",", ":"))
            copy.write_row(_row_values(contact))


def _write_orm(created: list[dict], updated: list[dict]) -> None:
    for contact in updated:
        Contact.objects.filter(pk=contact["id"]).update(**{c: contact[c] for c in _UPDATED_COLUMNS})
    Contact.objects.bulk_create([Contact(**{c: contact[c] for c in COLUMNS}) for contact in created], batch_size=500)
