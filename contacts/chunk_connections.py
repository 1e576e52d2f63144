"""A job's chunks applied on two PostgreSQL connections in turn.

While PostgreSQL applies a chunk on one connection, the other opens the next chunk's
transaction and copies its rows into its own temporary table: the next chunk then starts
with its rows already there, its `COPY` (~13–25 ms for 2,500 rows) off the job's path on
the other backend. Each chunk is still one transaction on one connection, taking the
account's and the job's locks only once the chunk before it has committed; the copy takes
no lock that another transaction waits for (a temporary table is its session's own, made
without locking the contacts table: upsert_sql.chunk_copy).

The second connection is taken from the pool before the job's first chunk, while the job
holds no lock: if none can be had, or a copy ahead fails, the job goes on with the
worker's own connection. A chunk not copied ahead is applied on the worker's own.

A job processed inside a caller's transaction (a test's) keeps to one connection: the
other would not see what that transaction wrote. So does one under an isolation level
other than READ COMMITTED, where the next chunk's transaction, begun before the chunk
before it commits, would not see that chunk's rows.

While a chunk is applied, Django's default connection (`django.db.connection`, the ORM)
is the one of that chunk, so the code of a chunk's transaction needs no connection of its
own to be named; it is the worker's again when the chunk ends.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from psycopg import IsolationLevel

from .chunk_apply import Chunk
from .upsert_sql import chunk_copy

logger = logging.getLogger(__name__)


class ChunkConnections:
    """Use as a context manager around a job's chunks (`several_chunks`: whether more than
    one is left, else no second connection is taken): on leaving, a chunk copied ahead and
    never applied is rolled back, and the second connection goes back to the pool."""

    def __init__(self, *, several_chunks: bool):
        self._own = connections[DEFAULT_DB_ALIAS]
        self._second = self._second_taken() if several_chunks and _pairable(self._own) else None
        self._paired = self._second is not None
        self._applying = None  # the connection of the chunk being applied
        self._copied: dict[int, tuple] = {}  # chunk start -> (its connection, its open transaction)

    @property
    def paired(self) -> bool:
        """Whether the next chunks are copied ahead on the other connection."""
        return self._paired

    def __enter__(self) -> "ChunkConnections":
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            self.copies_rolled_back()
        finally:
            if self._second is not None:
                try:
                    self._second.close()  # back to the pool
                except Exception as exc:  # not to hide why the job's chunks stopped, if they did
                    logger.warning("Bulk job: the second database connection could not be closed (%s)", exc)

    def copies_rolled_back(self) -> None:
        """Roll back the chunks copied ahead and never applied: then no chunk of the job is
        left open on either connection (leaving does it too)."""
        for start in list(self._copied):
            wrapper, opened = self._copied.pop(start)
            self._rolled_back(wrapper, opened, RuntimeError("not applied"))

    @contextmanager
    def transaction(self, chunk: Chunk) -> Iterator[None]:
        """The chunk's transaction: the one it was copied ahead in, else a new one on the
        worker's own connection."""
        wrapper, opened = self._copied.pop(chunk.start, (self._own, None))
        chunk.copied = opened is not None
        with self._current(wrapper):
            if opened is None:
                opened = transaction.atomic()
                opened.__enter__()
            self._applying = wrapper
            try:
                yield
            except BaseException as exc:
                opened.__exit__(type(exc), exc, exc.__traceback__)  # rolled back
                raise
            else:
                opened.__exit__(None, None, None)  # committed
            finally:
                self._applying = None

    def copy_ahead(self, chunk: Chunk | None) -> None:
        """Open the chunk's transaction on the connection the one being applied does not
        use, and copy its rows there (called while PostgreSQL applies that one). On any
        failure the job goes on with the worker's own connection, and the chunk copies its
        rows itself on its turn."""
        if not self._paired or self._applying is None or chunk is None or chunk.start in self._copied:
            return
        if not chunk.set_based:  # applied in memory: no rows to copy
            return
        wrapper = self._second if self._applying is self._own else self._own
        try:
            with self._current(wrapper):
                opened = transaction.atomic()
                opened.__enter__()
                self._copied[chunk.start] = (wrapper, opened)  # rolled back on leaving, whatever comes
                with wrapper.cursor() as cursor:
                    # Whatever the server's default: this transaction begins before the chunk
                    # before it commits, and must see its rows once its own turn comes.
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
                    chunk_copy(cursor, chunk.copy_values)
        except Exception as exc:
            logger.warning("Bulk job: rows from %s not copied ahead (%s); its chunks go on one connection", chunk.start, exc)
            self._paired = False
            if (entered := self._copied.pop(chunk.start, None)) is not None:
                self._dropped(*entered)
            return
        chunk.copied = True
        logger.debug("Bulk job: rows from %s copied ahead", chunk.start)

    def _second_taken(self):
        second = connections.create_connection(DEFAULT_DB_ALIAS)
        try:
            second.ensure_connection()
        except Exception as exc:
            logger.warning("Bulk job: no second database connection (%s); its chunks go on one", exc)
            second.close()
            return None
        return second

    def _rolled_back(self, wrapper, opened, exc: BaseException) -> None:
        """End an open transaction that is not to commit (a connection that cannot roll
        back is dropped by Django, which connects again: that may fail too, and is of no
        consequence here, a chunk on it finding out on its turn)."""
        try:
            with self._current(wrapper):
                opened.__exit__(type(exc), exc, exc.__traceback__)
        except Exception as again:
            logger.warning("Bulk job: a connection could not end a chunk copied ahead (%s)", again)

    def _dropped(self, wrapper, opened) -> None:
        """End the transaction of a copy that failed by closing its connection (the pool
        rolls it back or discards it), without connecting again while the chunk being
        applied holds its locks: the worker's own connects again on its next use."""
        with self._current(wrapper):
            try:
                wrapper.close()  # inside the transaction: Django leaves it closed on leaving it
            except Exception as again:
                logger.warning("Bulk job: a connection could not be closed (%s)", again)
            try:
                opened.__exit__(None, None, None)
            except Exception as again:
                logger.warning("Bulk job: a connection could not end a chunk copied ahead (%s)", again)
        if wrapper is self._second:
            self._second = None

    @contextmanager
    def _current(self, wrapper) -> Iterator[None]:
        """`wrapper` as this thread's default connection meanwhile."""
        before = connections[DEFAULT_DB_ALIAS]
        connections[DEFAULT_DB_ALIAS] = wrapper
        try:
            yield
        finally:
            connections[DEFAULT_DB_ALIAS] = before


def _pairable(own) -> bool:
    """Whether a job's chunks may go on two connections: on PostgreSQL, copying their rows
    (BULK_SQL_APPLY), and outside a caller's transaction."""
    if not (settings.BULK_SECOND_CONNECTION and settings.BULK_SQL_APPLY) or own.vendor != "postgresql":
        return False
    if own.in_atomic_block:
        return False
    level = own.settings_dict["OPTIONS"].get("isolation_level", IsolationLevel.READ_COMMITTED)
    return IsolationLevel(level) == IsolationLevel.READ_COMMITTED
