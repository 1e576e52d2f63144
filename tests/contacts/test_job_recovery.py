"""Durability: a worker killed in the middle of a job loses nothing. The job resumes in
another worker from its last committed chunk, with exact contacts, exact counts and
exactly one `ending`."""

import signal
import uuid

import pytest

from contacts.models import BulkJob, Contact
from realtime.events import ENDING
from tests import factories
from tests.conftest import service_env
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
