"""Applying one chunk of a bulk job's rows to the account's contacts."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from django.conf import settings
from django.db import connection
from django.utils import timezone

from .bulk_write import contacts_matching, contacts_write
from .creation_budget import CreationBudget
from .staged_text import PieceFacts
from .upsert import ContactImage, UpsertOptions, row_keys
from .upsert_direct import chunk_direct_shape, chunk_write_direct
from .upsert_sql import chunk_copy, chunk_copy_values, chunk_is_distinct, chunk_match, chunk_unstage, chunk_write


_UNKNOWN = object()


@dataclass(frozen=True)
class StagedPiece:
    """A chunk's rows as the text chunk_copy copies (staged_text.py), their number, and its facts."""

    text: bytes
    count: int
    facts: PieceFacts


class Chunk:
    """A chunk of a job's rows, the first at index `start` of the job: the rows, or the
    piece of the payload they are (`staged`) and how to load them if they are needed
    (`load`: to apply them in memory).

    `direct`: whether to try applying it by one statement (upsert_direct.py); `direct_undone`
    tells afterwards that the statement was tried and undone. `copied`: its rows are in
    its transaction's temporary table already (chunk_connections.py)."""

    def __init__(
        self, rows: list[dict] | None = None, *, start: int, direct: bool = True,
        staged: StagedPiece | None = None, load: Callable[[], list[dict]] | None = None,
    ):
        if (rows is None) == (staged is None):
            raise ValueError("a chunk is its rows or a staged piece")
        self._rows = rows
        self._staged = staged
        self._load = load
        self.count = len(rows) if rows is not None else staged.count
        self.start = start
        self.direct = direct
        self.direct_undone = False
        self.copied = False
        self._copy_values: list[tuple] | None = None
        self._shape = _UNKNOWN

    @property
    def rows(self) -> list[dict]:
        if self._rows is None:
            self._rows = self._load()
        return self._rows

    @cached_property
    def set_based(self) -> bool:
        """Whether it goes to PostgreSQL, by condition (a) of upsert_sql.py (PostgreSQL tells
        the others)."""
        if not (settings.BULK_SQL_APPLY and connection.vendor == "postgresql"):
            return False
        return self._staged.facts.distinct if self._staged is not None else chunk_is_distinct(self.rows)

    def prepare(self) -> None:
        """Compute, ahead of its turn, what applying it by PostgreSQL sends."""
        if self.set_based and self._staged is None and self._copy_values is None:
            self._copy_values = list(chunk_copy_values(self.rows))
            self._fields_all_give()

    @property
    def copy_values(self) -> Iterable[tuple] | bytes:
        """Its rows as chunk_copy copies them: a staged piece's text; else tuples, computed
        ahead if prepared, else as the COPY takes them (PostgreSQL stores the first rows
        while the worker computes the next: 2,500 rows staged ~14 ms sooner, for a job's
        first chunk)."""
        if self._staged is not None:
            return self._staged.text
        return self._copy_values if self._copy_values is not None else chunk_copy_values(self.rows)

    @property
    def direct_shape(self) -> frozenset[str] | None:
        """The fields its rows all give, if it can be applied by one statement and is to be tried."""
        return self._fields_all_give() if self.direct else None

    def _fields_all_give(self) -> frozenset[str] | None:
        if self._shape is _UNKNOWN:
            if self._staged is not None:
                shape = self._staged.facts.shape
                self._shape = None if shape is None else frozenset(shape)
            else:
                self._shape = chunk_direct_shape(self.rows)
        return self._shape


@dataclass(frozen=True)
class ChunkOutcome:
    """What a chunk did: its counts, and the rows it refused as `{"index", "field"?, "message"}`."""

    created: int
    updated: int
    connect_created: int
    errors: list[dict]


def chunk_rows_apply(
    chunk: Chunk, *, options: UpsertOptions, budget: CreationBudget, meanwhile: Callable[[], None] = lambda: None
) -> ChunkOutcome:
    """Apply a chunk's rows as if one by one, in array order: by PostgreSQL itself in one
    statement when it can (upsert_direct.py), else by PostgreSQL when the chunk is plain
    (upsert_sql.py), running `meanwhile` while it writes them, else in memory, row by row
    (upsert.py). Writes only; the caller holds the account's lock."""
    if chunk.set_based:
        total = chunk.count
        with connection.cursor() as cursor:
            if not chunk.copied:
                chunk_copy(cursor, chunk.copy_values)
            if chunk.direct_shape is not None:
                direct = chunk_write_direct(
                    cursor, chunk.direct_shape, options, budget, now=timezone.now(), meanwhile=meanwhile
                )
                if direct is not None:
                    chunk_unstage(cursor)
                    return ChunkOutcome(created=direct[0], updated=total - direct[0], connect_created=direct[1], errors=[])
                chunk.direct_undone = True
            creations = chunk_match(cursor, options)
            plain = creations is not None and budget.take_all(creates=creations[0], connect_creates=creations[1])
            if plain:
                chunk_write(
                    cursor, options, creates=creations[0], total=total, now=timezone.now(), meanwhile=meanwhile
                )
            chunk_unstage(cursor)
        if plain:
            return ChunkOutcome(created=creations[0], updated=total - creations[0], connect_created=creations[1], errors=[])
    return _in_memory(chunk.rows, chunk.start, options, budget)


def _in_memory(rows: list[dict], start: int, options: UpsertOptions, budget: CreationBudget) -> ChunkOutcome:
    image = ContactImage.of(contacts_matching(options.account_id, *row_keys(rows)))
    touched: dict = {}
    created_ids = set()
    errors, updated, connect_created = [], 0, 0
    for offset, row in enumerate(rows):
        creates = image.match(row) is None
        connect = creates and row.get("source", options.default_source) == "connect"
        if creates and not budget.take(connect=connect):
            errors.append({"index": start + offset, **budget.refusal()})
            continue
        outcome = image.apply(row, options)
        if outcome.problem:
            errors.append({"index": start + offset, **outcome.problem})
            continue
        touched[outcome.contact["id"]] = outcome.contact
        if outcome.created:
            created_ids.add(outcome.contact["id"])
            connect_created += connect
        else:
            updated += 1
    existing = [c for pk, c in touched.items() if pk not in created_ids]
    contacts_write(
        created=[c for pk, c in touched.items() if pk in created_ids],
        updated=existing,
        moved=image.moved_keys(existing),
        now=timezone.now(),
    )
    return ChunkOutcome(created=len(created_ids), updated=updated, connect_created=connect_created, errors=errors)
