"""The event protocol end to end: a real WebSocket client on a live server while a real
HTTP client posts, the work done by separate worker processes over Redis."""

import json

import pytest
from channels_redis.core import RedisChannelLayer

from realtime.events import ENDING, RUNNING, STARTING, publish
from tests import factories
from tests.live import EVENT_TIMEOUT, frames_until_ending, job_events

pytestmark = pytest.mark.django_db(transaction=True)


def _contacts(n: int, prefix: str = "c") -> list[dict]:
    return [{"email": f"{prefix}{i}@example.test", "firstName": f"N{i}"} for i in range(n)]


def test_socket_receives_starting_one_running_per_contact_in_order_then_ending(live_service):
    account = factories.account_make()
    user = factories.user_make(account)
    existing = factories.list_make(account, "existing")
    factories.contact_make(account, existing, user, email="c1@example.test")
    token = factories.token_make(user)

    with live_service.socket(token=token) as ws, live_service.http(token) as http:
        response = http.post("/api/v1/contacts/bulk", json={"list": {"name": "new"}, "contacts": _contacts(3)})
        assert response.status_code == 202, response.text
        accepted = response.json()
        events = job_events(ws, accepted["uuid"])

    assert events == [
        {"event": STARTING, "data": {"listId": accepted["listId"], "uuid": accepted["uuid"]}},
        *(
            {"event": RUNNING, "data": {"uuid": accepted["uuid"], "i": i, "total": 3}}
            for i in range(3)
        ),
        {"event": ENDING, "data": {"uuid": accepted["uuid"], "created": 2, "updated": 1}},
    ]
    assert set(accepted) == {"uuid", "listId", "total", "status", "statusUrl"}
    assert accepted["total"] == 3


def test_response_arrives_before_ending_of_a_large_job(live_service):
    account = factories.account_make()
    user = factories.user_make(account)
    token = factories.token_make(user)

    with live_service.socket(token=token) as ws, live_service.http(token) as http:
        response = http.post("/api/v1/contacts/bulk", json={"list": {"name": "big"}, "contacts": _contacts(3000)})
        assert response.status_code == 202, response.text
        job_id = response.json()["uuid"]
        # The 202 came back before the job ended: the status the response saw is unfinished.
        assert response.json()["status"] in ("queued", "running")
        events = job_events(ws, job_id)

    assert [e["data"]["i"] for e in events if e["event"] == RUNNING] == list(range(3000))
    assert events[0]["event"] == STARTING
    assert events[-1]["data"] == {"uuid": job_id, "created": 3000, "updated": 0}
    with live_service.http(token) as http:
        status = http.get(f"/api/v1/contacts/bulk/{job_id}").json()
    assert status["status"] == "done" and status["processed"] == 3000 and status["created"] == 3000


def test_small_jobs_ending_about_when_their_202_is_written_each_get_one_ending(live_service):
    # A job runs as soon as it is accepted; its `ending` goes once both its end and its
    # 202 are done, from whichever comes second: a small job's two race.
    user = factories.user_make(factories.account_make())
    token = factories.token_make(user)

    with live_service.socket(token=token) as ws, live_service.http(token) as http:
        accepted = []
        for n in range(20):
            body = {"list": {"name": "small"}, "contacts": _contacts(1, f"s{n}-")}
            response = http.post("/api/v1/contacts/bulk", json=body)
            assert response.status_code == 202, response.text
            accepted.append(response.json()["uuid"])
        received = []
        for job_id in accepted:
            if not any(e["event"] == ENDING and e["data"]["uuid"] == job_id for e in received):
                received += frames_until_ending(ws, job_id)
        # And whatever came after: a marker sent to the user's sockets now comes after it.
        marker = {"event": "test-marker", "data": {}}
        publish(user_id=user.pk, events=[marker])
        while (event := json.loads(ws.recv(timeout=EVENT_TIMEOUT))) != marker:
            received.append(event)

    for job_id in accepted:
        assert [e["event"] for e in received if e["data"]["uuid"] == job_id] == [STARTING, RUNNING, ENDING]


def test_events_of_one_user_never_reach_another_users_socket(live_service):
    account = factories.account_make()
    alice, bob = factories.user_make(account), factories.user_make(account)
    alice_token, bob_token = factories.token_make(alice), factories.token_make(bob)

    with live_service.socket(token=bob_token) as bob_ws, live_service.socket(token=alice_token) as alice_ws:
        with live_service.http(alice_token) as http:
            alice_job = http.post("/api/v1/contacts/bulk", json={"list": {"name": "a"}, "contacts": _contacts(2, "a")}).json()
        job_events(alice_ws, alice_job["uuid"])
        with live_service.http(bob_token) as http:
            bob_job = http.post("/api/v1/contacts/bulk", json={"list": {"name": "b"}, "contacts": _contacts(1, "b")}).json()
        # Alice's job ended before Bob's began, so a leaked frame would arrive before Bob's ending.
        seen_by_bob = frames_until_ending(bob_ws, bob_job["uuid"])

    assert {frame["data"]["uuid"] for frame in seen_by_bob} == {bob_job["uuid"]}
    assert len(seen_by_bob) == 3


def test_a_socket_idle_past_the_channel_layers_blocking_read_still_gets_its_events(live_service):
    """The server reads its sockets' messages from Redis by a blocking pop of up to
    brpop_timeout seconds at a time: a socket with nothing to receive for longer stays open."""
    user = factories.user_make(factories.account_make())
    token = factories.token_make(user)

    with live_service.socket(token=token) as ws, live_service.http(token) as http:
        with pytest.raises(TimeoutError):  # nothing for it, but not closed (1011 before)
            ws.recv(timeout=RedisChannelLayer.brpop_timeout + 3)
        job = http.post("/api/v1/contacts/bulk", json={"list": {"name": "later"}, "contacts": _contacts(2)}).json()
        events = job_events(ws, job["uuid"])

    assert [e["event"] for e in events] == [STARTING, RUNNING, RUNNING, ENDING]
