"""Durability: a worker killed in the middle of a job loses nothing. The job resumes in
another worker from its last committed chunk, with exact contacts, exact counts and
exactly one `ending`."""

import signal
import sqlite3
import threading
import uuid
from datetime import timedelta
from types import SimpleNamespace

import psycopg
import pytest
from django.db import OperationalError, connection, transaction
from django.db.models import F
from django.db.utils import DatabaseErrorWrapper
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from contacts.bulk_input import bulk_request_parse
from contacts.models import BulkJob, Contact
from contacts.services import BulkFlags, _database_away, bulk_job_create, bulk_job_process, bulk_jobs_recover
from realtime.events import ENDING, RUNNING
from tests import factories
from tests.conftest import database_url, service_env
from tests.live import ServiceProcesses, frames_until_ending, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

# Small chunks and a short heartbeat make a kill land mid-job and recovery come quickly.
FAULT_ENV = {"BULK_CHUNK_SIZE": "50", "BULK_JOB_STALE_SECONDS": "2", "BULK_RECOVERY_INTERVAL": "0.3"}


@pytest.fixture
def processes(tmp_path):
    # A task queue of its own: the session's live service must not take this test's jobs.
    started = ServiceProcesses(tmp_path, service_env(**FAULT_ENV, BULK_QUEUE=f"test-{uuid.uuid4().hex[:12]}"))
    started.server("server")
    yield started
    started.stop()


def test_a_worker_killed_mid_job_is_resumed_by_another_with_exact_results(processes):
    account = factories.account_make()
    user = factories.user_make(account)
    token = factories.token_make(user)
    old_list = factories.list_make(account, "old")
    for i in range(300):
        factories.contact_make(account, old_list, user, email=f"p{i}@example.test", first_name="old")
    contacts = [{"email": f"p{i}@example.test", "firstName": "new"} for i in range(3000)]
    contacts += [{"email": f"P{i}@example.test", "lastName": "again"} for i in range(0, 3000, 10)]  # duplicates
    first = processes.worker("worker-1")

    with processes.services[0].socket(token=token) as ws, processes.services[0].http(token) as http:
        response = http.post("/api/v1/contacts/bulk?moveToList=true", json={"list": {"name": "new"}, "contacts": contacts})
        assert response.status_code == 202, response.text
        job_id = response.json()["uuid"]
        wait_for(lambda: BulkJob.objects.get(pk=job_id).processed >= 200, "the first chunks to commit")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        job = BulkJob.objects.get(pk=job_id)
        assert job.status == "running" and 0 < job.processed < job.total, "the kill must land mid-job"
        processes.worker("worker-2")
        frames = frames_until_ending(ws, job_id)
        # A second job's ending proves the socket saw everything the first job could still send.
        second = http.post("/api/v1/contacts/bulk", json={"list": {"name": "new"}, "contacts": [{"email": "z@example.test"}]})
        frames += frames_until_ending(ws, second.json()["uuid"])

    endings = [f for f in frames if f["event"] == ENDING and f["data"]["uuid"] == job_id]
    assert endings == [{"event": ENDING, "data": {"uuid": job_id, "created": 2700, "updated": 600}}]
    job = BulkJob.objects.get(pk=job_id)
    assert (job.status, job.processed, job.created, job.updated, job.failed) == ("done", 3300, 2700, 600, 0)
    stored = Contact.objects.filter(account=account).exclude(email="z@example.test")
    assert stored.count() == 3000
    assert set(stored.values_list("list__name", flat=True)) == {"new"}
    assert set(stored.values_list("first_name", flat=True)) == {"new"}
    assert stored.filter(last_name="again").count() == 300


def _terminate_the_backend_copying_contacts(stop: threading.Event, terminated: list) -> None:
    """From a connection of its own, end the server process of the first COPY of a job's rows
    seen (into the contacts or into a chunk's table; what a database restart or failover does
    to it)."""
    with psycopg.connect(database_url(), autocommit=True) as watcher:
        while not stop.is_set() and not terminated:
            copying = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' "
                "AND (query LIKE 'COPY contacts_contact %%' OR query LIKE 'COPY chunk\\_row\\_%%')"
            ).fetchall()
            for (pid,) in copying:
                watcher.execute("SELECT pg_terminate_backend(%s)", [pid])
                terminated.append(pid)


def test_a_connection_lost_mid_copy_leaves_the_job_to_be_resumed_not_failed(settings):
    settings.BULK_CHUNK_SIZE = 10_000  # one long COPY for the watcher to find
    account = factories.account_make()
    user = factories.user_make(account)
    contacts = [{"email": f"c{i}@example.test", "companyDescription": "d" * 2000} for i in range(10_000)]
    request = bulk_request_parse({"list": {"name": "L"}, "contacts": contacts})
    job = bulk_job_create(user=user, request=request, flags=BulkFlags())
    stop, terminated = threading.Event(), []
    watcher = threading.Thread(target=_terminate_the_backend_copying_contacts, args=(stop, terminated))
    watcher.start()
    try:
        with pytest.raises(OperationalError):  # the database's fault: the job waits for recovery
            bulk_job_process(job_id=job.pk)
    finally:
        stop.set()
        watcher.join()
    connection.close()

    assert terminated
    job.refresh_from_db()
    assert (job.status, job.processed, job.failed) == (BulkJob.Status.RUNNING, 0, 0)
    bulk_job_process(job_id=job.pk)  # as the recovery loop's task does
    job.refresh_from_db()
    assert (job.status, job.created) == (BulkJob.Status.DONE, 10_000)
    assert Contact.objects.filter(account=account).count() == 10_000


def test_a_database_error_of_the_jobs_own_fails_it_rather_than_resuming_it_forever():
    account = factories.account_make()
    user = factories.user_make(account)
    request = bulk_request_parse({"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]})
    job = bulk_job_create(user=user, request=request, flags=BulkFlags())
    # A row stored before LinkedIn keys were limited: its key is too long for the unique
    # index (varied characters, which PostgreSQL cannot compress under the limit).
    too_long = "https://www.linkedin.com/in/" + "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(1500))
    BulkJob.objects.filter(pk=job.pk).update(payload=factories.payload_of([{"linkedin_url": too_long}], owners={}))

    bulk_job_process(job_id=job.pk)  # no error: the job ends

    job.refresh_from_db()
    assert (job.status, job.processed) == (BulkJob.Status.FAILED, 0)
    assert "index row size" in job.failure_reason


def test_a_job_resumed_again_and_again_without_progress_fails_and_one_that_progresses_does_not(settings):
    settings.BULK_MAX_STALLED_RESUMES = 2
    user = factories.user_make(factories.account_make())
    # Of two accounts: the second job of one account would wait for the first, not stall.
    other = factories.user_make(factories.account_make())
    request = bulk_request_parse({"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}, {"email": "b@example.test"}]})
    stuck, moving = (bulk_job_create(user=u, request=request, flags=BulkFlags()) for u in (user, other))

    def runners_die():  # as if each job's runner stopped again, the moving one a chunk further
        _tasks_taken_by_a_worker_that_died(stuck, moving)
        BulkJob.objects.filter(pk__in=[stuck.pk, moving.pk]).update(status=BulkJob.Status.RUNNING)
        BulkJob.objects.filter(pk=moving.pk).update(processed=F("processed") + 1)
        return bulk_jobs_recover(stale_after=timedelta(seconds=-1))

    with factories.events_subscribed(user) as channel:
        resumed = [runners_die() for _ in range(2)]
        BulkJob.objects.filter(pk=moving.pk).update(processed=0)  # one chunk back: progress all the same
        resumed.append(runners_die())
        ending = factories.events_until_ending(channel, str(stuck.pk))[-1]

    stuck.refresh_from_db()
    moving.refresh_from_db()
    assert resumed == [2, 2, 1]
    assert (stuck.status, stuck.failure_reason) == ("failed", "no progress after 2 resumes (the workers' logs say why)")
    assert ending["data"] == {"uuid": str(stuck.pk), "created": 0, "updated": 0, "failed": 2}
    assert moving.status == "running"


def test_a_resumed_job_sends_the_running_events_its_last_runner_had_not_sent(settings):
    settings.BULK_CHUNK_SIZE = 2
    account = factories.account_make()
    user = factories.user_make(account)
    request = bulk_request_parse({"list": {"name": "L"}, "contacts": [{"email": f"c{i}@example.test"} for i in range(6)]})
    job = bulk_job_create(user=user, request=request, flags=BulkFlags())
    # As a runner killed between its first chunk's commit and sending that chunk's events
    # leaves the job (those two rows are not what this test looks at).
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.RUNNING, processed=2, events_sent=0)

    with factories.events_subscribed(user) as channel:
        bulk_job_process(job_id=job.pk)
        received = factories.events_until_ending(channel, str(job.pk))

    assert [e["data"]["i"] for e in received if e["event"] == RUNNING] == [0, 1, 2, 3, 4, 5]
    assert [e["event"] for e in received][-1] == ENDING


def _tasks_taken_by_a_worker_that_died(*jobs: BulkJob) -> None:
    """Leave the jobs' current tasks as a worker killed while running them leaves them."""
    task_ids = BulkJob.objects.filter(pk__in=[job.pk for job in jobs]).values_list("task_id", flat=True)
    DBTaskResult.objects.filter(id__in=list(task_ids)).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now() - timedelta(minutes=5)
    )


def _next_task_taken(queue: str) -> DBTaskResult:
    """The task a worker of `queue` would take now (the worker's own query)."""
    with transaction.atomic():
        return DBTaskResult.objects.ready().filter(queue_name=queue).get_locked()


def test_a_job_waiting_in_a_long_queue_is_neither_resumed_nor_failed(settings):
    settings.BULK_MAX_STALLED_RESUMES = 2
    account = factories.account_make()
    user = factories.user_make(account)
    request = bulk_request_parse({"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]})
    job = bulk_job_create(user=user, request=request, flags=BulkFlags())  # no worker takes it in this test

    resumed = [bulk_jobs_recover(stale_after=timedelta(seconds=-1)) for _ in range(4)]

    job.refresh_from_db()
    assert resumed == [0, 0, 0, 0]
    assert (job.status, job.stalled_resumes) == (BulkJob.Status.QUEUED, 0)
    assert DBTaskResult.objects.filter(args_kwargs__args__0=str(job.pk)).count() == 1


def test_a_job_whose_task_a_worker_just_took_after_a_long_wait_is_not_queued_again(settings):
    account = factories.account_make()
    user = factories.user_make(account)
    request = bulk_request_parse({"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]})
    job = bulk_job_create(user=user, request=request, flags=BulkFlags())
    BulkJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))  # queued for an hour
    _next_task_taken(settings.BULK_QUEUE).claim("worker-1")  # taken now; its runner has yet to renew the heartbeat

    assert bulk_jobs_recover(stale_after=timedelta(seconds=30)) == 0
    assert DBTaskResult.objects.filter(args_kwargs__args__0=str(job.pk)).count() == 1


def test_a_resumed_job_is_taken_before_the_jobs_stored_after_it(settings):
    account = factories.account_make()
    user = factories.user_make(account)
    request = bulk_request_parse({"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]})
    dead = bulk_job_create(user=user, request=request, flags=BulkFlags())
    _tasks_taken_by_a_worker_that_died(dead)
    BulkJob.objects.filter(pk=dead.pk).update(status=BulkJob.Status.RUNNING)
    assert bulk_jobs_recover(stale_after=timedelta(seconds=-1)) == 1
    later = [bulk_job_create(user=user, request=request, flags=BulkFlags()) for _ in range(3)]

    taken = _next_task_taken(settings.BULK_QUEUE)

    dead.refresh_from_db()
    assert str(taken.id) == dead.task_id
    assert dead.task_id not in {job.task_id for job in later}


def _raised_by_django(sqlite_call) -> OperationalError:
    """What an SQLite call raises, as Django's SQLite backend raises it (the driver's error
    as its cause)."""
    try:
        with DatabaseErrorWrapper(SimpleNamespace(Database=sqlite3, errors_occurred=False)):
            sqlite_call()
    except OperationalError as error:
        return error
    raise AssertionError("no error")


def test_on_sqlite_a_busy_database_leaves_a_job_to_resume_and_an_error_of_its_own_fails_it(tmp_path):
    path = tmp_path / "db.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)

    busy = _raised_by_django(lambda: other.execute("INSERT INTO t VALUES (1)"))
    own = _raised_by_django(lambda: other.execute("SELECT 1 WHERE 1 IN (" + ", ".join(["?"] * 300_000) + ")", [0] * 300_000))

    assert "locked" in str(busy) and _database_away(busy)
    assert "too many SQL variables" in str(own) and not _database_away(own)
