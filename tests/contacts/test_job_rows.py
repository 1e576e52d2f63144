"""A job's stored rows, loaded a piece at a time, and the next chunk prepared while the
database writes the current one: every row applied once, in order, whatever the pieces;
a fault of the next chunk's is its own, not the current chunk's."""

import json
import weakref
import zlib

import pytest
from django.db import OperationalError, connection
from hypothesis import given, settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic_core import to_json

from contacts.bulk_input import bulk_request_parse
from contacts.job_rows import JobChunks, JobRows
from contacts.models import BulkJob, Contact
from contacts.services import BulkFlags, bulk_job_create, bulk_job_process
from tests import factories


def _rows(count: int) -> list[dict]:
    """Rows as stored: every third names its owner by email."""
    return [{"email": f"p{i}@example.test", **({"owner": "Boss@Example.test"} if i % 3 == 0 else {})} for i in range(count)]


def _pieced(rows: list[dict], size: int) -> bytes:
    pieces = [(len(rows[i : i + size]), to_json(rows[i : i + size])) for i in range(0, len(rows), size)]
    return factories.payload_of_json(pieces=pieces, owners={"boss@example.test": 7})


def _loaded(row: dict) -> dict:
    """The row made ready to apply: its key computed, its owner's id for the email."""
    loaded = {"email": row["email"], "email_key": row["email"]}
    return {**loaded, "owner_id": 7} if "owner" in row else loaded


@hypothesis_settings(max_examples=60, deadline=None)
@given(count=st.integers(0, 23), piece=st.integers(1, 9), step=st.integers(1, 9), first=st.integers(0, 5))
def test_ranges_of_any_size_give_the_rows_of_pieces_of_any_size_in_order(count, piece, step, first):
    job_rows = JobRows(_pieced(_rows(count), piece))
    first = min(first, count)
    found = []
    for start in range(first, count, step):
        found += job_rows.rows(start, start + step)
    assert job_rows.total == count
    assert found == [_loaded(row) for row in _rows(count)][first:]


def test_payloads_stored_before_pieces_are_still_read():
    rows = [{"email": "a@example.test", "owner": "BOSS@example.test"}, {"email": "b@example.test", "owner_id": 3}]
    with_owners = zlib.compress(json.dumps({"owners": {"boss@example.test": 7}, "rows": rows[:1]}).encode())
    rows_only = zlib.compress(json.dumps(rows[1:]).encode())

    assert JobRows(with_owners).rows(0, 9) == [{"email": "a@example.test", "email_key": "a@example.test", "owner_id": 7}]
    assert JobRows(rows_only).rows(0, 9) == [{"email": "b@example.test", "email_key": "b@example.test", "owner_id": 3}]


def test_payloads_stored_in_zlib_pieces_are_still_read():
    rows = _rows(5)
    pieces = [zlib.compress(json.dumps(rows[:3]).encode(), 1), zlib.compress(json.dumps(rows[3:]).encode(), 1)]
    header = json.dumps({"owners": {"boss@example.test": 7}, "pieces": [[3, len(pieces[0])], [2, len(pieces[1])]]}).encode()
    payload = b"\x00" + len(header).to_bytes(4, "big") + header + b"".join(pieces)

    assert JobRows(payload).rows(0, 9) == [_loaded(row) for row in rows]


def test_a_damaged_piece_is_refused_not_read_as_other_rows():
    rows = _rows(4)
    payload = _pieced(rows, 4)
    header_size = int.from_bytes(payload[1:5], "big")
    refused = 0
    for position in range(5 + header_size, len(payload)):  # every byte of the piece
        damaged = bytearray(payload)
        damaged[position] ^= 0x01
        try:
            found = JobRows(bytes(damaged)).rows(0, 4)
        except RuntimeError:
            refused += 1
        else:  # a bit the frame's decoding does not depend on
            assert found == [_loaded(row) for row in rows]
    assert refused > (len(payload) - 5 - header_size) * 0.9


def test_a_jobs_rows_are_loaded_once_at_its_first_chunk_and_the_one_before_kept_until_the_next_is_prepared():
    loads = []
    payload = _pieced(_rows(5), 2)
    chunks = JobChunks(lambda: loads.append(1) or JobRows(payload), size=2)
    assert loads == []
    first = chunks.at(0)
    second = chunks.at(2)
    assert loads == [1] and [row["email"] for row in first.rows + second.rows] == [f"p{i}@example.test" for i in range(4)]
    kept = weakref.ref(first)
    del first
    assert kept() is not None  # freed while the database writes the next, not on the way to it
    chunks.prepare_next()
    assert kept() is None and chunks.upcoming.rows == [_loaded(_rows(5)[4])] and loads == [1]


def test_a_chunk_that_is_a_whole_piece_naming_no_owner_is_copied_as_its_text_and_any_other_from_its_rows():
    rows = [{"email": f"p{i}@example.test", **({"owner": "Boss@example.test"} if i >= 4 else {})} for i in range(6)]
    payload = factories.payload_of(rows, owners={"boss@example.test": 7}, size=2)
    loaded = [{"email": f"p{i}@example.test", "email_key": f"p{i}@example.test", **({"owner_id": 7} if i >= 4 else {})} for i in range(6)]

    in_pieces = JobChunks(lambda: JobRows(payload), size=2)
    chunks = [in_pieces.at(start) for start in (0, 2, 4)]
    across_pieces = JobChunks(lambda: JobRows(payload), size=3).at(0)

    assert [isinstance(chunk.copy_values, bytes) for chunk in chunks] == [True, True, False]
    assert [row for chunk in chunks for row in chunk.rows] == loaded  # read from the text when needed
    assert not isinstance(across_pieces.copy_values, bytes) and across_pieces.rows == loaded[:3]


def _job(count: int):
    account = factories.account_make()
    user = factories.user_make(account)
    contacts = [{"email": f"c{i}@example.test", "firstName": f"F{i}"} for i in range(count)]
    job = bulk_job_create(user=user, request=bulk_request_parse({"list": {"name": "L"}, "contacts": contacts}), flags=BulkFlags())
    return account, job


@pytest.mark.django_db
@pytest.mark.parametrize("sql_apply", [True, False])
def test_a_job_stored_in_pieces_of_one_size_is_processed_in_chunks_of_another(settings, sql_apply):
    settings.BULK_SQL_APPLY = sql_apply
    settings.BULK_CHUNK_SIZE = 3
    account, job = _job(8)
    settings.BULK_CHUNK_SIZE = 2  # as a worker configured otherwise resuming the job would

    bulk_job_process(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == (BulkJob.Status.DONE, 8, 8)
    names = dict(Contact.objects.filter(account=account).values_list("email", "first_name"))
    assert names == {f"c{i}@example.test": f"F{i}" for i in range(8)}


@pytest.mark.django_db
def test_a_next_chunk_that_cannot_be_loaded_fails_the_job_after_the_chunk_before_commits(settings):
    settings.BULK_CHUNK_SIZE = 2
    account, job = _job(4)
    good = [{"email": f"c{i}@example.test"} for i in range(2)]
    broken = factories.payload_of_json(pieces=[(2, to_json(good)), (2, b"[{not json")], owners={})
    BulkJob.objects.filter(pk=job.pk).update(payload=broken)

    bulk_job_process(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == (BulkJob.Status.FAILED, 2, 2)
    assert Contact.objects.filter(account=account).count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_database_going_away_while_a_chunk_is_written_leaves_the_job_to_be_resumed(settings):
    """The set-based writes go in a pipeline: an error PostgreSQL reports at its end is
    still Django's, so a database away is told from an error of the job's own."""
    settings.BULK_CHUNK_SIZE = 2
    account, job = _job(4)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION contact_insert_refused() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'going away' USING ERRCODE = 'admin_shutdown'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER contact_insert_refused BEFORE INSERT ON contacts_contact FOR EACH ROW "
            "WHEN (NEW.email = 'c2@example.test') EXECUTE FUNCTION contact_insert_refused()"
        )
    try:
        with pytest.raises(OperationalError, match="going away"):
            bulk_job_process(job_id=job.pk)
        job.refresh_from_db()
        assert (job.status, job.processed) == (BulkJob.Status.RUNNING, 2)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER contact_insert_refused ON contacts_contact")
            cursor.execute("DROP FUNCTION contact_insert_refused()")

    bulk_job_process(job_id=job.pk)  # as the recovery loop's task does
    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == (BulkJob.Status.DONE, 4, 4)
    assert Contact.objects.filter(account=account).count() == 4
