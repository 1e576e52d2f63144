"""The embedded default: with no configuration, one process serves HTTP and WebSocket on
SQLite and the in-memory channel layer, and runs the background work itself."""

import json
import os
import subprocess
import sys

import httpx
import pytest

from realtime.events import ENDING, RUNNING, STARTING
from tests.conftest import ROOT
from tests.live import LiveService, free_port, job_events


@pytest.fixture
def embedded_service(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "EMBEDDED_WORKER")}
    env.update(
        DJANGO_SETTINGS_MODULE="contacts_project.settings.base",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONUNBUFFERED="1",
        # No polling to speak of: jobs reach the embedded worker by its in-process wake-up.
        WORKER_POLL_INTERVAL="3600",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    created = subprocess.run(
        [*manage, "create_api_client", "--account", "solo", "--email", "solo@example.test"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )
    port = free_port()
    log = tmp_path / "service.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*manage, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    service = LiveService(f"http://127.0.0.1:{port}", process, log)
    try:
        service.wait_until_up()
        yield service, json.loads(created.stdout)
    finally:
        service.stop()
    assert process.returncode == 0, log.read_text()[-3000:]


def test_embedded_default_serves_the_whole_bulk_flow_on_sqlite(embedded_service):
    service, client = embedded_service
    token = httpx.post(
        f"{service.base_url}/o/token/",
        data={"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]},
    ).json()["access_token"]
    contacts = [{"email": f"p{i}@example.test", "firstName": f"P{i}", "city": "Paris"} for i in range(1200)]
    contacts.append({"email": "P0@example.test"})
    updates = [{"email": "p1@example.test", "city": "Lyon"}, {"email": "p2@example.test", "firstName": None}]

    with service.socket(token=token) as ws, service.http(token) as http:
        response = http.post("/api/v1/contacts/bulk", json={"list": {"name": "solo"}, "contacts": contacts})
        assert response.status_code == 202, response.text
        events = job_events(ws, response.json()["uuid"])
        updated = http.post("/api/v1/contacts/bulk", json={"list": {"name": "solo"}, "contacts": updates})
        assert updated.status_code == 202, updated.text
        update_events = job_events(ws, updated.json()["uuid"])
        stored = {
            email: http.get("/api/v1/contacts", params={"email": email}).json()["results"][0]
            for email in ("p0@example.test", "p1@example.test", "p2@example.test")
        }

    assert events[0]["event"] == STARTING
    assert [e["data"]["i"] for e in events if e["event"] == RUNNING] == list(range(1201))
    assert events[-1] == {"event": ENDING, "data": {"uuid": response.json()["uuid"], "created": 1200, "updated": 1}}
    assert update_events[-1]["data"] == {"uuid": updated.json()["uuid"], "created": 0, "updated": 2}
    # Fields a row leaves out stay as they were; null clears one.
    assert [(c["email"], c["firstName"], c["city"]) for c in stored.values()] == [
        ("P0@example.test", "P0", "Paris"), ("p1@example.test", "P1", "Lyon"), ("p2@example.test", None, "Paris")
    ]
