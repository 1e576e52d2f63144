"""Events stay lossless at scale: chunked channel-layer messages still give each socket
exactly one frame per event, in order per job, however many jobs run at once."""

import json
import threading
import time
from collections import defaultdict

import pytest

from realtime.events import ENDING, RUNNING, STARTING
from tests import factories
from tests.live import EVENT_TIMEOUT

pytestmark = pytest.mark.django_db(transaction=True)

JOBS = 4
CONTACTS = 10_000


def _frames_until_endings(ws, expected_jobs: int, received: list) -> None:
    """Collect every frame on `ws` until `expected_jobs` endings arrived."""
    endings = 0
    deadline = time.monotonic() + EVENT_TIMEOUT * 4
    while endings < expected_jobs:
        event = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
        received.append(event)
        endings += event["event"] == ENDING


def test_four_concurrent_10k_jobs_deliver_every_frame_in_order_to_two_sockets(live_service):
    account = factories.account_make()
    user = factories.user_make(account)
    token = factories.token_make(user)
    bodies = [
        {"list": {"name": f"scale-{j}"}, "contacts": [{"email": f"j{j}-{i}@example.test"} for i in range(CONTACTS)]}
        for j in range(JOBS)
    ]
    accepted, received = [None] * JOBS, [[], []]

    def post(j: int) -> None:
        with live_service.http(token) as http:
            accepted[j] = http.post("/api/v1/contacts/bulk", json=bodies[j])

    with live_service.socket(token=token) as first, live_service.socket(token=token) as second:
        readers = [
            threading.Thread(target=_frames_until_endings, args=(ws, JOBS, frames))
            for ws, frames in ((first, received[0]), (second, received[1]))
        ]
        posters = [threading.Thread(target=post, args=(j,)) for j in range(JOBS)]
        for thread in readers + posters:
            thread.start()
        for thread in posters + readers:
            thread.join()

    assert [response.status_code for response in accepted] == [202] * JOBS
    job_ids = {response.json()["uuid"] for response in accepted}
    for frames in received:
        assert len(frames) == JOBS * (CONTACTS + 2)
        per_job = defaultdict(list)
        for event in frames:
            per_job[event["data"]["uuid"]].append(event)
        assert set(per_job) == job_ids
        for job_id, events in per_job.items():
            assert events[0]["event"] == STARTING
            assert [e["data"]["i"] for e in events[1:-1]] == list(range(CONTACTS))
            assert all(e["event"] == RUNNING and e["data"]["total"] == CONTACTS for e in events[1:-1])
            assert events[-1] == {"event": ENDING, "data": {"uuid": job_id, "created": CONTACTS, "updated": 0}}
