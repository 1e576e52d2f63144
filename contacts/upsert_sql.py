"""A chunk's sequential upsert done by PostgreSQL itself, in a constant number of statements.

The rows go to a temporary table by COPY (a payload piece's text as it is, or the rows'
tuples in binary); PostgreSQL matches them, updates the
contacts they match and inserts the others, so no contact travels to Python and back.
This equals processing the rows one by one (upsert.py) only for a chunk that is *plain*:
  (a) no two rows carry the same email key, nor the same LinkedIn key;
  (b) no two rows match the same contact;
  (c) every key a row carries is held by the contact it matches or by none (a row matched
      by email whose LinkedIn URL is another contact's is the one way to break this);
  and the quotas let every creation of the chunk through.
Then no row's match can depend on the rows before it: the keys a row carries are held by
its own contact or by none at every step (another row only gives its own contact its own,
distinct keys, and releases keys no other row carries), so the match found for all rows at
once is the one each would find in turn, no row is refused, and no key passes from one
contact to another within the statement (nothing for a unique index to trip on). Most
imports are plain; a chunk that is not goes the in-memory way, in the same transaction.
"""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from functools import cache

from django.db import connection
from msgspec.json import encode as json_encode

from .bulk_write import SET_BY_ROWS, copy_rows, copy_text, given_mask
from .fields import DEFAULT_LANGUAGE
from .ids import statement_ids
from .models import Contact
from .staged_text import TEXT_COLUMNS
from .upsert import UpsertOptions

_TABLE = Contact._meta.db_table
# What a row holds: its place in the chunk, the mask of the SET_BY_ROWS fields it gives
# (bit i for SET_BY_ROWS[i]), then the values; a payload's pieces are text in these columns.
_ROW_COLUMNS = list(TEXT_COLUMNS)
_KEYED_BY = {"email_key": "email", "linkedin_key": "linkedin_url"}


def chunk_is_distinct(rows: list[dict]) -> bool:
    """Condition (a): no email or LinkedIn key carried by two rows of the chunk."""
    emails = [key for row in rows if (key := row.get("email_key"))]
    linkedins = [key for row in rows if (key := row.get("linkedin_key"))]
    return len(set(emails)) == len(emails) and len(set(linkedins)) == len(linkedins)


def chunk_copy_values(rows: list[dict]) -> Iterator[tuple]:
    """The chunk's rows as chunk_copy copies them, one by one (kept in a list when computed
    ahead of the chunk's turn)."""
    return (_row_values(pos, row) for pos, row in enumerate(rows))


def chunk_copy(cursor, copy_values: Iterable[tuple] | bytes) -> None:
    """Copy the rows (chunk_copy_values, or a payload piece's text) into the chunk's
    temporary table."""
    rows, matches = _staging_tables()
    # Made once per database session (the rows' table named after its columns, which a
    # migration may change under a long-lived connection), emptied by each chunk's commit:
    # a table made and dropped for every chunk cost ~3 ms of catalog writes each time.
    # Its columns are spelled out rather than taken from the contacts table by CREATE ...
    # AS, which locks that table for the rest of the transaction, even when the temporary
    # table exists: a chunk copied ahead (chunk_connections.py) would hold the lock while
    # the chunk before it is applied, and a migration waiting for the table then deadlock
    # with the chunk's own writes.
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {rows} ({_staged_columns()}) ON COMMIT DELETE ROWS; "
        f"CREATE TEMP TABLE IF NOT EXISTS {matches} (pos integer, source text, contact_id uuid, conflict boolean) "
        "ON COMMIT DELETE ROWS"
    )
    if isinstance(copy_values, bytes):
        copy_text(cursor, rows, _ROW_COLUMNS, copy_values)
    else:
        copy_rows(cursor, rows, _ROW_COLUMNS, copy_values)


def chunk_match(cursor, options: UpsertOptions) -> tuple[int, int] | None:
    """Match the copied rows; return the creations (all, and with source `connect`) if the
    chunk is plain by (b) and (c), else None."""
    rows, matches = _staging_tables()
    # Every lookup is a probe of a unique index (OFFSET 0 keeps each subquery apart: planned
    # as a join, a lookup could become a scan of all the account's contacts). The LinkedIn
    # URL's holder is looked up only where it can tell something: not when the row has no
    # URL, nor when the contact its email matches holds that URL already.
    cursor.execute(
        f"INSERT INTO {matches} (pos, source, contact_id, conflict) "
        "SELECT pos, source, COALESCE(by_email, by_linkedin), "
        "by_email IS NOT NULL AND by_linkedin IS NOT NULL AND by_email <> by_linkedin "
        "FROM (SELECT r.pos, r.source, e.id AS by_email, "
        "CASE WHEN r.linkedin_key IS NOT NULL AND (e.id IS NULL OR e.linkedin_key IS DISTINCT FROM r.linkedin_key) "
        f"THEN (SELECT id FROM {_TABLE} l WHERE l.account_id = %s AND l.linkedin_key = r.linkedin_key) "
        "END AS by_linkedin "
        f"FROM {rows} r LEFT JOIN LATERAL (SELECT id, linkedin_key FROM {_TABLE} "
        "WHERE account_id = %s AND email_key = r.email_key OFFSET 0) e ON true OFFSET 0) AS found",
        [options.account_id, options.account_id],
    )
    cursor.execute(
        "SELECT count(*) FILTER (WHERE contact_id IS NULL), "
        "count(*) FILTER (WHERE contact_id IS NULL AND COALESCE(source, %s) = 'connect'), "
        f"count(contact_id) = count(DISTINCT contact_id) AND NOT bool_or(conflict) FROM {matches}",
        [options.default_source],
    )
    creates, connect_creates, plain = cursor.fetchone()
    return (creates, connect_creates) if plain else None


def chunk_write(cursor, options: UpsertOptions, *, creates: int, total: int, now, meanwhile: Callable[[], None]) -> None:
    """Update the matched contacts and insert the others from the staged, plain chunk,
    running `meanwhile` while PostgreSQL does: the statements go in one pipeline, and the
    worker's Python and the database's backend work on two cores at once."""
    updates = [f"{c} = CASE WHEN r.given & {1 << i} = 0 THEN c.{c} ELSE r.{c} END" for i, c in enumerate(SET_BY_ROWS)]
    updates += [
        f"{key} = CASE WHEN r.given & {1 << SET_BY_ROWS.index(field)} = 0 THEN c.{key} ELSE r.{key} END"
        for key, field in _KEYED_BY.items()
    ]
    # The keys the row sets to null go, the others are set (vars hold only scalars).
    updates.append(
        "vars = CASE WHEN r.vars IS NULL THEN c.vars ELSE (c.vars - ARRAY(SELECT key FROM jsonb_each(r.vars) "
        "WHERE jsonb_typeof(value) = 'null')) || jsonb_strip_nulls(r.vars) END"
    )
    if options.move_to_list:
        updates.append("list_id = %(list_id)s")
    if options.replace_owner:
        updates.append("owner_id = COALESCE(r.owner_id, c.owner_id)")
    updates.append("updated_at = %(now)s")
    with connection.wrap_database_errors, connection.connection.pipeline():
        _write_statements(cursor, options, updates=updates, creates=creates, total=total, now=now)
        meanwhile()


def _write_statements(cursor, options: UpsertOptions, *, updates: list[str], creates: int, total: int, now) -> None:
    rows, matches = _staging_tables()
    if creates < total:
        cursor.execute(
            f"UPDATE {_TABLE} AS c SET {', '.join(updates)} FROM {rows} r JOIN {matches} m USING (pos) "
            "WHERE c.id = m.contact_id",
            {"list_id": options.list_id, "now": now},
        )
    if creates:
        cursor.execute(
            f"{CREATED_INSERT} FROM {rows} r JOIN {matches} m USING (pos) WHERE m.contact_id IS NULL",
            created_params(options, now),
        )


_CREATED_DEFAULTS = {
    "owner_id": "COALESCE(r.owner_id, %(caller_id)s)",
    "collected_at": "COALESCE(r.collected_at, %(collected_at)s)",
    "source": "COALESCE(r.source, %(source)s)",
    "language": f"COALESCE(r.language, '{DEFAULT_LANGUAGE}')",
}
_CREATED_COLUMNS = ["owner_id", "email_key", "linkedin_key", "vars", *SET_BY_ROWS]
# A created contact's id, of its statement's (contacts.ids.statement_ids) and its row's
# place. CAST, not `::bigint`: the parameter goes into the statement as text, and
# `-x::bigint` casts x before negating it, out of range for the lowest bigint.
CREATED_ID = "(%(id_high)s || to_hex(CAST(%(id_low)s AS bigint) + r.pos))::uuid"


def _created_insert(vars_value: str) -> str:
    defaults = {**_CREATED_DEFAULTS, "vars": vars_value}
    return (
        f"INSERT INTO {_TABLE} AS c (id, account_id, list_id, created_at, updated_at, {', '.join(_CREATED_COLUMNS)}) "
        f"SELECT {CREATED_ID}, %(account_id)s, %(list_id)s, %(now)s, %(now)s, "
        f"{', '.join(defaults.get(c, f'r.{c}') for c in _CREATED_COLUMNS)}"
    )


# The contacts created from the staged rows `r` (the caller adds FROM and what it needs).
CREATED_INSERT = _created_insert("COALESCE(jsonb_strip_nulls(r.vars), '{}')")
# The same from rows none of which sets a `vars` key to null (upsert_direct.py), where
# stripping is a no-op the statement paid for every row, updated ones included: ~2.5 ms of
# PostgreSQL's CPU per 10,000 rows at a slow moment.
CREATED_INSERT_NULL_FREE = _created_insert("COALESCE(r.vars, '{}')")


def created_params(options: UpsertOptions, now) -> dict:
    """The parameters of CREATED_INSERT and CREATED_INSERT_NULL_FREE (each statement's own ids: contacts.ids)."""
    id_high, id_low = statement_ids()
    return {
        "id_high": id_high, "id_low": id_low,
        "account_id": options.account_id, "list_id": options.list_id, "caller_id": options.caller_id,
        "source": options.default_source, "collected_at": options.collected_at_default, "now": now,
    }


def chunk_unstage(cursor) -> None:
    """Empty the chunk's tables now if its transaction is nested in another (a test's): it
    does not commit, and its commit is what empties them."""
    if connection.savepoint_ids:
        cursor.execute(f"TRUNCATE {', '.join(_staging_tables())}")


def staged_rows_table() -> str:
    """The temporary table chunk_copy copies a chunk's rows into."""
    return _staging_tables()[0]


@cache
def _staging_tables() -> tuple[str, str]:
    """The temporary tables of a chunk's rows and of their matches."""
    return f"chunk_row_{hashlib.sha256(_staged_columns().encode()).hexdigest()[:12]}", "chunk_match"


@cache
def _staged_columns() -> str:
    """The columns of the staged rows' table: a row's place and mask, then the contacts
    table's own types."""
    fields = {field.attname: field for field in Contact._meta.concrete_fields}
    typed = [f"{column} {fields[column].db_type(connection)}" for column in _ROW_COLUMNS[2:]]
    return ", ".join(["pos integer", "given integer", *typed])


def _row_values(pos: int, row: dict) -> tuple:
    vars_ = row.get("vars")
    return (
        pos, given_mask(tuple(row)), row.get("owner_id"), row.get("email_key"), row.get("linkedin_key"),
        None if vars_ is None else json_encode(vars_), *map(row.get, SET_BY_ROWS),
    )
