"""An accepted job wakes an idle worker at once (PostgreSQL NOTIFY): this worker's poll
interval is an hour, so a job it did not find at its first look reaches it only by a
wake-up."""

import uuid

import pytest

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


def test_an_idle_worker_is_woken_by_each_accepted_job(processes):
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
