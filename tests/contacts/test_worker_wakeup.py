"""A released job wakes an idle worker at once (PostgreSQL NOTIFY): this worker's poll
interval is an hour, so a job it did not find at its first look reaches it only by a
wake-up. A release that fails leaves the job to its task's grace."""

import uuid

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from contacts.models import BulkJob
from contacts.tasks import ANNOUNCE_GRACE
from tests import factories
from tests.conftest import service_env
from tests.live import ServiceProcesses, job_events

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def processes(tmp_path):
    started = ServiceProcesses(tmp_path, service_env(BULK_QUEUE=f"test-{uuid.uuid4().hex[:12]}"))
    started.server("server")
    started.start("worker", "manage.py", "bulk_worker", "--interval", "3600")
    yield started
    started.stop()


def test_an_idle_worker_is_woken_by_each_released_job(processes):
    user = factories.user_make(factories.account_make())
    token = factories.token_make(user)
    service = processes.services[0]

    with service.socket(token=token) as ws, service.http(token) as http:
        # The first job may be found by the worker's first look; once it has ended, the
        # worker is idle, waiting for a wake-up, and each next job must wake it.
        for n in range(3):
            response = http.post("/api/v1/contacts/bulk", json={"list": {"name": "L"}, "contacts": [{"email": f"w{n}@example.test"}]})
            assert response.status_code == 202, response.text
            events = job_events(ws, response.json()["uuid"])
            assert events[-1]["data"] == {"uuid": response.json()["uuid"], "created": 1, "updated": 0}


def test_a_release_that_fails_leaves_the_202_sent_and_the_task_to_its_grace(api, caplog):
    # The database refuses to release the task, as it would a statement on a lost connection.
    table = DBTaskResult._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION release_refused() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'release refused'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER release_refused BEFORE UPDATE OF run_after ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION release_refused()"
        )
    try:
        response = api.post(
            "/api/v1/contacts/bulk", {"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]}, format="json"
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER release_refused ON {table}")
            cursor.execute("DROP FUNCTION release_refused()")

    assert response.status_code == 202 and response.closed  # the connection went back all the same
    job = BulkJob.objects.get(pk=response.json()["uuid"])
    assert DBTaskResult.objects.get(id=job.task_id).run_after > job.created_at + ANNOUNCE_GRACE / 2
    assert f"Could not release the task {job.task_id}" in caplog.text
