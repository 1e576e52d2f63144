"""A bulk job runs as soon as it is accepted, while its request writes the 202; its
`ending` waits for that 202, which the contract puts first, whichever of the two is done
first; and for ANSWER_GRACE if the request died before writing it."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from contacts.bulk_input import bulk_request_parse
from contacts.models import BulkJob, PlannedCreation
from contacts.services import BulkFlags, bulk_job_announce, bulk_job_answered, bulk_job_create, bulk_job_process
from contacts.tasks import ANSWER_GRACE, answer_grace_over
from realtime import events
from realtime.events import ENDING, RUNNING, STARTING, ending
from tests import factories
from tests.concurrent import backends_waiting_for_a_lock, in_own_connection
from tests.conftest import database_url
from tests.live import wait_for

pytestmark = pytest.mark.django_db

REQUEST = {"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}, {"email": "b@example.test"}]}


def _events_so_far(channel: str, user) -> list[dict]:
    """The events queued on `channel` until now: a marker published now comes after them."""
    marker = {"event": "test-marker", "data": {}}
    events.publish(user_id=user.pk, events=[marker])
    received = []
    while marker not in received:
        received += [json.loads(text) for text in factories.events_next_message(channel)["frames"]]
    return received[:-1]


def _grace_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path__endswith=".answer_grace_over"))


def test_a_job_ending_before_its_202_leaves_its_ending_to_the_answer():
    user = factories.user_make(factories.account_make())
    with factories.events_subscribed(user) as channel:
        job = bulk_job_create(user=user, request=bulk_request_parse(REQUEST), flags=BulkFlags(), answered_later=True)
        bulk_job_process(job_id=job.pk)  # a worker, done before the request wrote its 202
        before_answer = _events_so_far(channel, user)
        bulk_job_answered(job_id=job.pk)  # the 202 written
        after_answer = factories.events_until_ending(channel, str(job.pk))
        answer_grace_over.call(str(job.pk))  # its grace, over: nothing more to send
        after_grace = _events_so_far(channel, user)

    assert [e["event"] for e in before_answer] == [STARTING, RUNNING, RUNNING]
    assert BulkJob.objects.get(pk=job.pk).status == BulkJob.Status.DONE
    assert after_answer == [ending(job_id=str(job.pk), created=2, updated=0, failed=0)]
    assert after_grace == []


def test_a_job_answered_before_its_end_sends_its_ending_itself():
    user = factories.user_make(factories.account_make())
    with factories.events_subscribed(user) as channel:
        job = bulk_job_create(user=user, request=bulk_request_parse(REQUEST), flags=BulkFlags(), answered_later=True)
        bulk_job_answered(job_id=job.pk)  # the 202 written while the job waits for a worker
        before_end = _events_so_far(channel, user)
        bulk_job_process(job_id=job.pk)
        until_end = factories.events_until_ending(channel, str(job.pk))

    assert [e["event"] for e in before_end] == [STARTING]
    assert [e["event"] for e in until_end] == [RUNNING, RUNNING, ENDING]
    assert _grace_tasks() == []


def test_the_grace_sends_the_ending_of_a_job_whose_request_died_before_its_202():
    user = factories.user_make(factories.account_make())
    job = bulk_job_create(user=user, request=bulk_request_parse(REQUEST), flags=BulkFlags(), answered_later=True)
    bulk_job_process(job_id=job.pk)

    [grace] = _grace_tasks()
    assert grace.run_after > timezone.now() + ANSWER_GRACE - timedelta(seconds=5)
    assert grace.args_kwargs["args"] == [str(job.pk)]
    with factories.events_subscribed(user) as channel:
        answer_grace_over.call(str(job.pk))  # as a worker runs it once the grace is over
        assert factories.events_until_ending(channel, str(job.pk)) == [
            ending(job_id=str(job.pk), created=2, updated=0, failed=0)
        ]


def test_an_answer_the_database_refuses_leaves_the_202_sent_and_the_ending_to_the_grace(api, user, caplog):
    # The database refuses to record the answer, as it would a statement on a lost connection.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION answer_refused() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'answer refused'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER answer_refused BEFORE UPDATE OF answer_pending ON {BulkJob._meta.db_table} "
            "FOR EACH ROW EXECUTE FUNCTION answer_refused()"
        )
    try:
        response = api.post("/api/v1/contacts/bulk", REQUEST, format="json")
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER answer_refused ON {BulkJob._meta.db_table}")
            cursor.execute("DROP FUNCTION answer_refused()")

    assert response.status_code == 202 and response.closed  # the connection went back all the same
    job_id = response.json()["uuid"]
    assert f"Could not record the answer of job {job_id}" in caplog.text
    assert BulkJob.objects.get(pk=job_id).answer_pending
    bulk_job_process(job_id=job_id)
    assert [task.args_kwargs["args"] for task in _grace_tasks()] == [[job_id]]


@pytest.mark.django_db(transaction=True)
def test_a_job_announced_by_its_worker_is_not_waited_for_by_its_request():
    # `starting` sent (by the worker, starting first; here by bulk_job_create), and the
    # worker holding the job's row for a chunk.
    user = factories.user_make(factories.account_make())
    job = bulk_job_create(user=user, request=bulk_request_parse(REQUEST), flags=BulkFlags(), answered_later=True)
    with psycopg.connect(database_url()) as worker:
        worker.execute(f"SELECT 1 FROM {BulkJob._meta.db_table} WHERE id = %s FOR UPDATE", [job.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")  # a wait fails the test rather than hang it
        try:
            bulk_job_announce(job_id=job.pk)  # the request's call, which must return towards its 202
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET lock_timeout")


@pytest.mark.django_db(transaction=True)
def test_an_answer_coming_while_the_job_ends_waits_for_the_end_then_sends_the_ending_once():
    user = factories.user_make(factories.account_make())
    gate_key = 7_202
    with psycopg.connect(database_url(), autocommit=True) as admin:
        # The job's end stops inside its transaction (the job's row updated and locked)
        # until the test lets it go on.
        admin.execute(
            "CREATE FUNCTION end_gate() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN PERFORM pg_advisory_xact_lock({gate_key}); RETURN NULL; END $$"
        )
        admin.execute(
            f"CREATE TRIGGER end_gate AFTER DELETE ON {PlannedCreation._meta.db_table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION end_gate()"
        )
        try:
            with (
                factories.events_subscribed(user) as channel,
                psycopg.connect(database_url()) as gate,
                ThreadPoolExecutor(2) as threads,
            ):
                gate.execute("SELECT pg_advisory_xact_lock(%s)", [gate_key])
                job = bulk_job_create(
                    user=user, request=bulk_request_parse(REQUEST), flags=BulkFlags(), answered_later=True
                )
                worker = threads.submit(in_own_connection, bulk_job_process, job_id=job.pk)
                wait_for(lambda: backends_waiting_for_a_lock() >= 1, "the job's end to wait at the gate")
                answer = threads.submit(in_own_connection, bulk_job_answered, job_id=job.pk)
                wait_for(lambda: backends_waiting_for_a_lock() >= 2, "the answer to wait for the job's row")
                gate.rollback()
                worker.result(timeout=30)
                answer.result(timeout=30)
                received = _events_so_far(channel, user)
        finally:
            admin.execute(f"DROP TRIGGER end_gate ON {PlannedCreation._meta.db_table}")
            admin.execute("DROP FUNCTION end_gate()")

    assert [e["event"] for e in received] == [STARTING, RUNNING, RUNNING, ENDING]
    assert BulkJob.objects.get(pk=job.pk).status == BulkJob.Status.DONE
