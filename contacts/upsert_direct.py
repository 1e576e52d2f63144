"""A chunk's sequential upsert as one `INSERT ... ON CONFLICT (account, email) DO UPDATE`.

PostgreSQL applies such a statement row by row, in the order its rows come (here the
chunk's own, sorted by the SELECT: its executor's behaviour, which the differential tests
hold it to), each row seeing what the rows before it did, and checks the unique LinkedIn
key at each row (the constraint is not deferrable). That is processing the rows one by one
(upsert.py) exactly, for a chunk whose rows all carry an email, give the same fields and
set no `vars` key to null, and whose keys are distinct (condition (a) of upsert_sql.py),
but for two cases the statement cannot take, which stop it with a unique violation on the
LinkedIn key:
  - a row whose email matches no contact and whose LinkedIn URL one does (the contract
    matches it by LinkedIn URL: the statement would create it);
  - a row matched by email whose LinkedIn URL another contact holds (the contract refuses
    the row).
Then, or when the chunk creates more contacts than the job has left reserved under a
quota that limits them (whose room is counted before writing, and the statement has
written already), the statement is undone to its savepoint and the chunk goes the other
ways, from the rows already copied. One statement replaces matching, updating and
inserting: it probes the email index once per row, where the other way probed it to match
and then the primary key to update (~10 % of a bulk job's time in the database).
"""

from collections.abc import Callable
from functools import lru_cache

from django.db import IntegrityError, connection, transaction

from .bulk_write import SET_BY_ROWS
from .creation_budget import CreationBudget
from .upsert import UpsertOptions
from .upsert_sql import CREATED_INSERT_NULL_FREE, created_params, staged_rows_table

# What stops the statement where the contract matches or refuses by LinkedIn URL: any other
# error is the job's, as it is on the other ways.
_LINKEDIN_UNIQUE = "contact_linkedin_unique"


def chunk_direct_shape(rows: list[dict]) -> frozenset[str] | None:
    """The fields every row of the chunk gives, if the statement can apply it: each row with
    an email, all giving the same fields, none setting a `vars` key to null."""
    fields = rows[0].keys()
    for row in rows:
        if row.keys() != fields or not row.get("email_key"):
            return None
        if (vars_ := row.get("vars")) and None in vars_.values():
            return None
    return frozenset(fields)


def chunk_write_direct(
    cursor, shape: frozenset[str], options: UpsertOptions, budget: CreationBudget, *, now,
    meanwhile: Callable[[], None],
) -> tuple[int, int] | None:
    """Apply the copied rows of a chunk of this shape by one statement, running `meanwhile`
    while PostgreSQL does; return its creations (all, and with source `connect`), or None
    if it was undone: the chunk is to go another way."""
    try:
        with transaction.atomic():
            with connection.wrap_database_errors, connection.connection.pipeline():
                cursor.execute(_statement(shape, options.move_to_list, options.replace_owner), created_params(options, now))
                meanwhile()
            creates, connect_creates = cursor.fetchone()
            if not budget.take_written(creates=creates, connect_creates=connect_creates):
                transaction.set_rollback(True)  # back to the savepoint as the block ends
                return None
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        if diag is None or diag.constraint_name != _LINKEDIN_UNIQUE:
            raise
        return None
    return creates, connect_creates


@lru_cache(maxsize=64)
def _statement(shape: frozenset[str], move_to_list: bool, replace_owner: bool) -> str:
    # A matched contact takes the fields the rows give (its email key is the row's already).
    updates = [f"{column} = EXCLUDED.{column}" for column in SET_BY_ROWS if column in shape]
    if "linkedin_url" in shape:
        updates.append("linkedin_key = EXCLUDED.linkedin_key")
    if "vars" in shape:
        updates.append("vars = c.vars || EXCLUDED.vars")
    if move_to_list:
        updates.append("list_id = EXCLUDED.list_id")
    if replace_owner and "owner_id" in shape:
        updates.append("owner_id = EXCLUDED.owner_id")
    updates.append("updated_at = EXCLUDED.updated_at")
    # xmax is 0 in the version of a row the statement inserted, our transaction's id in one
    # it updated (which it locked first).
    return (
        f"WITH written AS ({CREATED_INSERT_NULL_FREE} FROM {staged_rows_table()} r ORDER BY r.pos "
        f"ON CONFLICT (account_id, email_key) DO UPDATE SET {', '.join(updates)} "
        "RETURNING c.xmax = 0 AS created, c.source) "
        "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE created AND source = 'connect') FROM written"
    )
