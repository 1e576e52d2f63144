"""Catching up: a client that lost its socket asks for what it missed of a job."""

import json

import pytest

from accounts.models import User
from contacts.bulk_input import bulk_request_parse
from contacts.models import Contact
from contacts.services import BulkFlags, bulk_job_create, bulk_job_process
from realtime.events import ENDING, RUNNING
from tests import factories
from tests.live import frames_until_ending, job_events

pytestmark = pytest.mark.django_db(transaction=True)


def _post(live_service, token: str, n: int) -> str:
    with live_service.http(token) as http:
        response = http.post(
            "/api/v1/contacts/bulk", json={"list": {"name": "r"}, "contacts": [{"email": f"r{i}@example.test"} for i in range(n)]}
        )
    assert response.status_code == 202, response.text
    return response.json()["uuid"]


@pytest.fixture
def token(db):
    return factories.token_make(factories.user_make(factories.account_make()))


def test_resume_after_an_index_sends_the_remaining_running_events_then_the_ending(live_service, token):
    with live_service.socket(token=token) as first:
        job_id = _post(live_service, token, 3000)
        live = job_events(first, job_id)

    with live_service.socket(token=token) as second:
        second.send(json.dumps({"action": "resume", "uuid": job_id, "after": 1499}))
        caught_up = frames_until_ending(second, job_id)

    assert caught_up == [
        *({"event": RUNNING, "data": {"uuid": job_id, "i": i, "total": 3000}} for i in range(1500, 3000)),
        live[-1],
    ]
    assert live[-1] == {"event": ENDING, "data": {"uuid": job_id, "created": 3000, "updated": 0}}


def test_resume_during_a_job_misses_nothing(live_service, token):
    with live_service.socket(token=token) as ws:
        job_id = _post(live_service, token, 5000)
        ws.send(json.dumps({"action": "resume", "uuid": job_id, "after": -1}))
        received = job_events(ws, job_id)

    # Replayed and live events may overlap (clients tell them apart by `i`); none is missing.
    assert {e["data"]["i"] for e in received if e["event"] == RUNNING} == set(range(5000))
    assert received[-1]["event"] == ENDING


def test_resume_of_another_users_job_reveals_nothing(live_service, token):
    other = factories.token_make(factories.user_make(factories.account_make()))
    with live_service.socket(token=other) as ws:
        job_id = _post(live_service, other, 2)
        job_events(ws, job_id)

    with live_service.socket(token=token) as ws:
        ws.send(json.dumps({"action": "resume", "uuid": job_id, "after": -1}))
        answer = json.loads(ws.recv(timeout=10))
        ws.send("not json")
        malformed = json.loads(ws.recv(timeout=10))

    assert answer == {"event": "error", "data": {"message": "no job of yours has this uuid", "uuid": job_id}}
    assert malformed["event"] == "error" and "resume" in malformed["data"]["message"]


def test_a_message_nested_past_the_parsers_depth_gets_an_error_and_the_socket_stays(live_service, token):
    with live_service.socket(token=token) as ws:
        ws.send("[" * 10_000 + "]" * 10_000)
        refused = json.loads(ws.recv(timeout=10))
        job_id = _post(live_service, token, 2)
        events = job_events(ws, job_id)

    assert refused["event"] == "error" and "resume" in refused["data"]["message"]
    assert events[-1] == {"event": ENDING, "data": {"uuid": job_id, "created": 2, "updated": 0}}


def test_resume_of_a_job_of_the_account_a_user_left_reveals_nothing(live_service):
    account = factories.account_make()
    user, colleague = factories.user_make(account), factories.user_make(account)
    token = factories.token_make(user)
    with live_service.socket(token=token) as ws:
        job_id = _post(live_service, token, 2)
        job_events(ws, job_id)
    # As the admin lets a user go: their contacts to a colleague first, then the move.
    Contact.objects.filter(owner=user).update(owner=colleague)
    User.objects.filter(pk=user.pk).update(account=factories.account_make())

    with live_service.socket(token=token) as ws:
        ws.send(json.dumps({"action": "resume", "uuid": job_id, "after": -1}))
        answer = json.loads(ws.recv(timeout=10))

    assert answer == {"event": "error", "data": {"message": "no job of yours has this uuid", "uuid": job_id}}


def test_an_operator_resumes_an_import_into_another_account(live_service):
    operator = factories.user_make(factories.account_make(), is_staff=True, is_superuser=True)
    elsewhere = factories.account_make()
    flags = BulkFlags(account_id=elsewhere.pk, default_owner_id=factories.user_make(elsewhere).pk, default_source="import")
    request = bulk_request_parse({"list": {"name": "i"}, "contacts": [{"email": "i@example.test"}]})
    job_id = str(bulk_job_create(user=operator, request=request, flags=flags).pk)
    bulk_job_process(job_id=job_id)  # here: what the page resumes is read from the database

    with live_service.socket(token=factories.token_make(operator)) as ws:
        ws.send(json.dumps({"action": "resume", "uuid": job_id, "after": -1}))
        caught_up = frames_until_ending(ws, job_id)

    assert caught_up == [
        {"event": RUNNING, "data": {"uuid": job_id, "i": 0, "total": 1}},
        {"event": ENDING, "data": {"uuid": job_id, "created": 1, "updated": 0}},
    ]
