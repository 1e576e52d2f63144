"""Reads and writes a chunk's contacts in a constant number of queries.

The contacts a chunk can touch are read with only the columns applying rows needs
(MATCH_COLUMNS); an updated contact then holds those and the fields its rows set, and only
those are written. PostgreSQL: one query reads; new rows are COPYed into the table,
updated rows COPYed into a temporary table with a bit mask of the columns they hold, and
applied by one UPDATE ... FROM. COPY of tuples goes in binary, which psycopg makes in C
from Python values (text would take Python per value); a payload's piece, text already,
goes as it is (copy_text: PostgreSQL read 2,500 rows of the benchmark's into a table
without indexes in ~8.5 ms of its time either way, in 2026-12). Elsewhere (SQLite, the
embedded default) the ORM does it, row by row for updates, which an in-process database
does quickly enough.
"""

import json
from functools import cache, lru_cache
from operator import itemgetter

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Q, TextField, Value
from django.db.models.functions import Cast, Concat
from msgspec.json import encode as json_encode
from psycopg import adapt, pq
from psycopg.postgres import types as postgres_types

from .models import Contact
from .staged_text import GIVEN_FIELDS

COLUMNS = [f.attname for f in Contact._meta.concrete_fields]
# What matching and applying rows read of an existing contact (upsert.py).
MATCH_COLUMNS = ["id", "email_key", "linkedin_key", "owner_id", "list_id", "vars"]
# Written for every updated contact; the other columns only if its rows set them.
_ALWAYS_WRITTEN = [c for c in MATCH_COLUMNS if c != "id"] + ["updated_at"]
# The columns a row may set, in the order of the bits of the masks of the fields it gives
# (a payload's pieces hold those masks: staged_text.py).
SET_BY_ROWS = list(GIVEN_FIELDS)
if set(SET_BY_ROWS) != {c for c in COLUMNS if c not in (*MATCH_COLUMNS, "account_id", "created_at", "updated_at")}:
    raise ImproperlyConfigured("staged_text.GIVEN_FIELDS must be the contact columns rows set")
_row_values = itemgetter(*COLUMNS)


def contacts_matching(account_id: int, emails: set[str], linkedins: set[str]) -> list[dict]:
    """The account's contacts holding any of these keys, as dicts of MATCH_COLUMNS (on
    PostgreSQL `vars` stays JSON text until a row changes it)."""
    if connection.vendor == "postgresql":
        # One OR query reads each contact once. The keys travel as JSON arrays: encoding
        # one string costs far less than psycopg's array parameters, and since the planner
        # cannot count them it probes the two unique indexes rather than scanning every
        # contact of the account.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(MATCH_COLUMNS)} FROM {Contact._meta.db_table} WHERE account_id = %s AND ("
                "email_key = ANY(ARRAY(SELECT json_array_elements_text(%s::json))) "
                "OR linkedin_key = ANY(ARRAY(SELECT json_array_elements_text(%s::json))))",
                [account_id, json.dumps(sorted(emails)), json.dumps(sorted(linkedins))],
            )
            return [dict(zip(MATCH_COLUMNS, row)) for row in cursor.fetchall()]
    found: dict = {}
    for field, keys in (("email_key", sorted(emails)), ("linkedin_key", sorted(linkedins))):
        for i in range(0, len(keys), 5000):  # SQLite's bound-parameter limit
            query = Contact.objects.filter(Q(**{f"{field}__in": keys[i : i + 5000]}), account_id=account_id)
            found.update((c["id"], c) for c in query.values(*MATCH_COLUMNS))
    return list(found.values())


def contacts_write(*, created: list[dict], updated: list[dict], moved: list[dict], now) -> None:
    """Insert `created` (every column), update `updated` (the columns they hold); `moved`
    are updated rows whose email or LinkedIn key changed, parked first so that no
    intermediate state breaks a unique constraint."""
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
    for contact in (*created, *updated):
        if not isinstance(contact["vars"], str):  # JSON text is COPYed as it is
            contact["vars"] = json_encode(contact["vars"])
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        if updated:
            _update_postgres(cursor, table, updated)
        if created:
            copy_rows(cursor, table, COLUMNS, map(_row_values, created))


def _update_postgres(cursor, table: str, updated: list[dict]) -> None:
    """One UPDATE from a temporary table holding, per contact, the columns it holds and a
    mask of the ones of SET_BY_ROWS among them (bit i for SET_BY_ROWS[i])."""
    columns = ["id", *_ALWAYS_WRITTEN, *SET_BY_ROWS]
    cursor.execute(
        f"CREATE TEMP TABLE contact_update ON COMMIT DROP AS "
        f"SELECT {', '.join(columns)}, 0::integer AS given FROM {table} WITH NO DATA"
    )
    rows = ((*map(c.get, columns), given_mask(tuple(c))) for c in updated)
    copy_rows(cursor, "contact_update", [*columns, "given"], rows)
    assignments = [f"{c} = u.{c}" for c in _ALWAYS_WRITTEN] + [
        f"{c} = CASE WHEN u.given & {1 << i} = 0 THEN c.{c} ELSE u.{c} END" for i, c in enumerate(SET_BY_ROWS)
    ]
    cursor.execute(f"UPDATE {table} AS c SET {', '.join(assignments)} FROM contact_update AS u WHERE c.id = u.id")
    cursor.execute("DROP TABLE contact_update")


@lru_cache(maxsize=256)  # bounded: the shapes are the clients' choice
def given_mask(held: tuple[str, ...]) -> int:
    """The mask of the columns of SET_BY_ROWS a contact holding `held` gives; rows of one
    job mostly hold the same columns, so this is computed once per shape."""
    return sum(1 << i for i, column in enumerate(SET_BY_ROWS) if column in held)


def copy_rows(cursor, table: str, columns: list[str], rows) -> None:
    """Binary COPY of the rows (tuples of the columns' values) into the table."""
    types = copy_types()
    cursor.adapters.register_dumper(None, _JsonTextDumper)  # this cursor's jsonb, in COPY only
    # copy() is psycopg's own, which Django does not wrap: without this, a connection lost
    # mid-COPY would raise psycopg's error, not Django's, and fail the job instead of
    # leaving it to be resumed.
    with connection.wrap_database_errors:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([types[column] for column in columns])
            for row in rows:
                copy.write_row(row)


def copy_text(cursor, table: str, columns: list[str], text: bytes) -> None:
    """COPY of rows already in COPY's text format into the table."""
    with connection.wrap_database_errors:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            copy.write(text)


class _JsonTextDumper(adapt.Dumper):
    """`vars` as the JSON text they already are (str or bytes), in jsonb's binary format."""

    format = pq.Format.BINARY
    oid = postgres_types["jsonb"].oid

    def dump(self, obj: str | bytes) -> bytes:
        return b"\x01" + (obj.encode() if isinstance(obj, str) else obj)  # format version 1


_COPY_TYPE_OF = {"uuid": "uuid", "jsonb": "jsonb", "integer": "int4", "bigint": "int8", "timestamp with time zone": "timestamptz"}


@cache
def copy_types() -> dict[str, str]:
    """The PostgreSQL type binary COPY sends each written column as (a row's mask and its
    place in its chunk: int4)."""
    types = {"given": "int4", "pos": "int4"}
    for field in Contact._meta.concrete_fields:
        db_type = field.db_type(connection)
        if db_type == "text" or db_type.startswith("varchar"):
            types[field.attname] = "text"
        elif db_type in _COPY_TYPE_OF:
            types[field.attname] = _COPY_TYPE_OF[db_type]
        else:
            raise ImproperlyConfigured(f"contacts_contact.{field.column} is {db_type}: give it a binary COPY type")
    return types


def _write_orm(created: list[dict], updated: list[dict]) -> None:
    for contact in updated:
        written = {c: contact[c] for c in (*_ALWAYS_WRITTEN, *SET_BY_ROWS) if c in contact}
        Contact.objects.filter(pk=contact["id"]).update(**written)
    Contact.objects.bulk_create([Contact(**{c: contact[c] for c in COLUMNS}) for contact in created], batch_size=500)
