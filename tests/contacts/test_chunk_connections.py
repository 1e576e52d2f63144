"""A job's chunks on two PostgreSQL connections in turn (contacts/chunk_connections.py):
the next chunk's rows copied on the other connection while one chunk is applied, each
chunk one transaction on one connection, and a job the same on two connections as on one."""

import logging

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections

from contacts.bulk_input import bulk_request_parse
from contacts.chunk_apply import Chunk
from contacts.chunk_connections import ChunkConnections
from contacts.models import BulkJob, Contact
from contacts.services import BulkFlags, _database_away, bulk_job_create, bulk_job_process
from contacts.upsert import row_with_keys
from contacts.upsert_sql import chunk_copy, staged_rows_table
from quotas.models import AccountQuota
from tests import factories
from tests.conftest import database_url

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's path")


def _chunk(start: int, *emails: str) -> Chunk:
    return Chunk([row_with_keys({"email": email, "first_name": "Ann"}) for email in emails], start=start)


def _applied_copying_next(turns: ChunkConnections, chunk: Chunk, upcoming: Chunk) -> int:
    """Apply the chunk, its next copied ahead meanwhile; the backend it was applied on."""
    with turns.transaction(chunk):
        turns.copy_ahead(upcoming)
        return _backend()


def _backend() -> int:
    with connection.cursor() as cursor:  # Django's default connection: the chunk's, meanwhile
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _staged() -> int:
    """The rows in this connection's temporary table of a chunk's rows."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {staged_rows_table()}")
        return cursor.fetchone()[0]


def _copied(chunk: Chunk) -> None:
    """Copy the chunk's rows in the current transaction, as applying it does."""
    with connection.cursor() as cursor:
        chunk_copy(cursor, chunk.copy_values)


def _accepted(user, contacts: list[dict]) -> BulkJob:
    return bulk_job_create(user=user, request=bulk_request_parse({"list": {"name": "L"}, "contacts": contacts}), flags=BulkFlags())


def _open_transactions(*backends: int) -> int:
    """How many of these backends have a transaction open (the live service's may, for
    themselves, while these tests run)."""
    with psycopg.connect(database_url(), autocommit=True) as other:
        return other.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) AND state LIKE 'idle in transaction%%'",
            [list(backends)],
        ).fetchone()[0]


def _second_backend(turns: ChunkConnections) -> int:
    return turns._second.connection.info.backend_pid


@pytest.mark.django_db(transaction=True)
def test_the_next_chunk_is_copied_on_the_other_connection_while_one_is_applied():
    first, second = _chunk(0, "a@x.test", "b@x.test"), _chunk(2, "c@x.test", "d@x.test", "e@x.test")
    with ChunkConnections(several_chunks=True) as turns:
        assert turns.paired
        with turns.transaction(first):
            applying = _backend()
            _copied(first)
            turns.copy_ahead(second)
            assert second.copied
            assert _backend() == applying  # the default connection is the applying chunk's again
            assert _staged() == 2  # its own rows only: the next chunk's went to the other's table
        with turns.transaction(second):
            assert _backend() != applying
            assert _staged() == 3  # copied ahead, in the transaction it is applied in
        third = _chunk(5, "f@x.test")
        with turns.transaction(third):  # not copied ahead: on the connection the last did not use
            assert _backend() == applying
            assert not third.copied
    assert _backend() == applying  # the worker's own connection, once the job's chunks are done


@pytest.mark.django_db(transaction=True)
def test_a_chunk_copied_ahead_and_never_applied_leaves_no_transaction_open():
    chunks = [_chunk(i, f"p{i}@x.test") for i in range(3)]
    with ChunkConnections(several_chunks=True) as turns:
        own = _applied_copying_next(turns, chunks[0], chunks[1])
        other = _applied_copying_next(turns, chunks[1], chunks[2])  # the third copied on the worker's own connection
        assert chunks[2].copied and _open_transactions(own, other) == 1
    # The job stops there (its turn to wait, say): the worker's connection is its own again,
    # outside any transaction, for the job's end.
    assert _open_transactions(own, other) == 0
    assert not connection.in_atomic_block and _backend() == own


@pytest.mark.django_db(transaction=True)
def test_a_chunk_copied_ahead_holds_no_lock_on_the_contacts_table():
    # A migration waiting for the table while the chunk before it is applied would
    # otherwise deadlock with the copied chunk's own writes, once its turn came.
    with ChunkConnections(several_chunks=True) as turns:
        with turns.transaction(_chunk(0, "a@x.test")):
            turns.copy_ahead(_chunk(1, "b@x.test"))
            with psycopg.connect(database_url(), autocommit=True) as admin:
                held = admin.execute(
                    "SELECT count(*) FROM pg_locks WHERE relation = 'contacts_contact'::regclass AND pid = %s",
                    [_second_backend(turns)],
                ).fetchone()[0]
    assert held == 0


@pytest.mark.django_db(transaction=True)
def test_a_failed_chunk_is_rolled_back_on_its_connection():
    first, second, third = _chunk(0, "a@x.test"), _chunk(1, "b@x.test"), _chunk(2, "c@x.test", "d@x.test")
    with ChunkConnections(several_chunks=True) as turns:
        own = _applied_copying_next(turns, first, second)
        with pytest.raises(ZeroDivisionError), turns.transaction(second):
            failed = _backend()
            1 / 0
        assert _open_transactions(own, failed) == 0
        with turns.transaction(_chunk(1, "b@x.test")):  # the same rows again, on the worker's connection
            turns.copy_ahead(third)
        with turns.transaction(third):
            assert _backend() == failed
            assert _staged() == 2  # its own rows: nothing left of the failed chunk's


@pytest.mark.django_db(transaction=True)
def test_when_the_other_connection_fails_the_job_goes_on_the_workers_own():
    chunks = [_chunk(i, f"p{i}@x.test") for i in range(4)]
    with ChunkConnections(several_chunks=True) as turns:
        own = _applied_copying_next(turns, chunks[0], chunks[1])
        with turns.transaction(chunks[1]):
            other = _backend()
        with turns.transaction(chunks[2]):
            with psycopg.connect(database_url(), autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s, 5000)", [other])  # once it is gone
            turns.copy_ahead(chunks[3])  # on the terminated connection: fails
            assert not chunks[3].copied and not turns.paired
        with turns.transaction(chunks[3]):
            assert _backend() == own


@pytest.mark.django_db(transaction=True)
def test_a_chunk_whose_connection_is_cut_after_its_copy_stops_the_job_as_the_database_away():
    # As when the worker's own connection is cut: the job is resumed from its last chunk.
    first, second = _chunk(0, "a@x.test"), _chunk(1, "b@x.test")
    with ChunkConnections(several_chunks=True) as turns:
        own = _applied_copying_next(turns, first, second)
        with psycopg.connect(database_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", [_second_backend(turns)])
        with pytest.raises((OperationalError, InterfaceError)) as cut, turns.transaction(second):
            _backend()
        assert _database_away(cut.value)
    assert _backend() == own and _open_transactions(own) == 0


@pytest.mark.django_db(transaction=True)
def test_with_no_second_connection_to_be_had_a_job_goes_on_one(settings, caplog):
    settings.BULK_CHUNK_SIZE = 1
    job = _accepted(factories.user_make(factories.account_make()), [{"email": f"p{i}@x.test"} for i in range(3)])
    stats = connection.pool.get_stats()
    held = [connections.create_connection(DEFAULT_DB_ALIAS) for _ in range(stats["pool_max"] - stats["pool_size"] + stats["pool_available"])]
    try:
        for wrapper in held:  # every connection the pool has left
            wrapper.ensure_connection()
        bulk_job_process(job_id=job.pk)  # waits DB_POOL_TIMEOUT for a second one, then goes on
    finally:
        for wrapper in held:
            wrapper.close()
    job.refresh_from_db()
    assert (job.status, job.created) == (BulkJob.Status.DONE, 3)
    assert "no second database connection" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_chunk_copied_ahead_reads_committed_whatever_the_servers_default():
    # Its transaction begins before the chunk before it commits: it must see that chunk's rows.
    account = factories.account_make()
    user, contact_list = factories.user_make(account), factories.list_make(account)
    first, second = _chunk(0, "a@x.test"), _chunk(1, "b@x.test")
    with ChunkConnections(several_chunks=True) as turns:
        other = turns._second
        with other.cursor() as cursor:
            cursor.execute("SET SESSION default_transaction_isolation = 'repeatable read'")
        try:
            with turns.transaction(first):
                turns.copy_ahead(second)
                factories.contact_make(account, contact_list, user, email="written@x.test")  # the chunk's write
            with turns.transaction(second):
                assert Contact.objects.filter(account=account, email="written@x.test").exists()
        finally:
            with other.cursor() as cursor:  # the connection goes back to the pool, for other tests
                cursor.execute("RESET default_transaction_isolation")


@pytest.mark.django_db
def test_inside_a_callers_transaction_a_job_keeps_to_one_connection():
    # The other connection would not see what the caller's transaction (here the test's) wrote.
    first, second = _chunk(0, "a@x.test"), _chunk(1, "b@x.test")
    caller = _backend()
    with ChunkConnections(several_chunks=True) as turns:
        assert not turns.paired
        with turns.transaction(first):
            turns.copy_ahead(second)
            assert not second.copied
        with turns.transaction(second):
            assert _backend() == caller


# Rows that take every way a chunk can go: one statement, the statement undone (a LinkedIn
# URL matched or taken), the matching way, row by row (a key twice in a chunk), and keys
# carried from one chunk to the next.
_EXISTING = [
    {"email": "ada@x.test", "linkedin_url": "https://linkedin.com/in/ada", "first_name": "Ada"},
    {"email": "grace@x.test", "linkedin_url": "https://linkedin.com/in/grace", "first_name": "Grace"},
]
_ROWS = [
    {"email": "new1@x.test", "firstName": "N1", "vars": {"k": 1}},
    {"email": "ADA@x.test", "lastName": "Lovelace"},
    {"email": "new2@x.test", "firstName": "N2"},
    # one statement each way, then the same keys again in the next chunk
    {"email": "new1@x.test", "vars": {"k": None, "j": 2}},
    {"email": "new3@x.test", "linkedinUrl": "https://linkedin.com/in/new3"},
    {"email": "new2@x.test", "firstName": "N2 again"},
    # matched by LinkedIn URL alone, then a LinkedIn URL another contact holds: undone
    {"email": "grace2@x.test", "linkedinUrl": "https://www.linkedin.com/in/grace/"},
    {"email": "ada@x.test", "linkedinUrl": "https://linkedin.com/in/new3"},
    {"email": "new4@x.test"},
    # an email twice in one chunk: row by row
    {"email": "new5@x.test", "firstName": "first"},
    {"email": "new5@x.test", "firstName": "second"},
    {"linkedinUrl": "https://linkedin.com/in/nomail", "firstName": "No mail"},
    {"email": "last@x.test"},
]


def _job_run(settings, *, paired: bool, total_limit: int | None) -> tuple[dict, list[dict]]:
    settings.BULK_SECOND_CONNECTION = paired
    settings.BULK_CHUNK_SIZE = 3
    account = factories.account_make()
    user = factories.user_make(account)
    old = factories.list_make(account, "old")
    for fields in _EXISTING:
        factories.contact_make(account, old, user, **fields)
    job = _accepted(user, _ROWS)
    if total_limit is not None:  # lowered once the job was accepted: some creations are refused
        AccountQuota.objects.create(account=account, total_limit=total_limit)
    bulk_job_process(job_id=job.pk)
    job.refresh_from_db()
    outcome = {f: getattr(job, f) for f in ("status", "processed", "created", "updated", "failed", "errors")}
    fields = ("email", "linkedin_url", "first_name", "last_name", "vars", "list__name")
    contacts = list(Contact.objects.filter(account=account).order_by("email", "linkedin_url").values(*fields))
    return outcome, contacts


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("total_limit", [None, 8], ids=["no quota", "a quota the creations reach"])
def test_a_job_on_two_connections_does_what_it_does_on_one(settings, caplog, total_limit):
    caplog.set_level(logging.DEBUG, logger="contacts.chunk_connections")
    alone = _job_run(settings, paired=False, total_limit=total_limit)
    assert "copied ahead" not in caplog.text
    paired = _job_run(settings, paired=True, total_limit=total_limit)
    assert "copied ahead" in caplog.text

    assert paired == alone
    assert alone[0]["status"] == BulkJob.Status.DONE and alone[0]["processed"] == len(_ROWS)
    if total_limit is None:
        assert alone[0]["failed"] == 1  # the LinkedIn URL another contact holds
    else:
        assert len(alone[1]) == total_limit and alone[0]["failed"] > 1
