"""Quotas under concurrency: parallel HTTP requests to a live service never push an
account (or a user's day) past its quota, and exactly the accepted contacts get written."""

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from contacts.bulk_input import bulk_request_parse
from contacts.models import Contact
from contacts.services import BulkFlags, bulk_job_create
from quotas.exceptions import QuotaExceeded
from quotas.models import ConnectUsage
from quotas.selectors import utc_today
from tests import factories
from tests.live import EVENT_TIMEOUT

pytestmark = pytest.mark.django_db(transaction=True)

BATCH = 3
REQUESTS = 16
POLL_INTERVAL = 0.05  # between two reads of a job's status while waiting for its end


def _batches(n: int, **fields) -> list[list[dict]]:
    """n batches of BATCH distinct new contacts each."""
    run = uuid.uuid4().hex[:8]
    return [
        [{"email": f"r{run}-{b}-{i}@example.test", **fields} for i in range(BATCH)] for b in range(n)
    ]


def _post_all_at_once(live_service, tokens: list[str], batches: list[list[dict]]) -> list:
    """POST each batch from its own thread, all released together; the responses, in order."""
    barrier = threading.Barrier(len(batches))

    def post(token: str, contacts: list[dict]):
        with live_service.http(token) as http:
            barrier.wait(timeout=30)
            return http.post("/api/v1/contacts/bulk", json={"list": {"name": "rush"}, "contacts": contacts})

    with ThreadPoolExecutor(max_workers=len(batches)) as pool:
        futures = [pool.submit(post, token, batch) for token, batch in zip(tokens, batches, strict=True)]
        return [future.result() for future in futures]


def _wait_until_finished(live_service, token: str, job_ids: list[str]) -> dict[str, dict]:
    """Each job's final status, read from the status endpoint until it ends (or the deadline)."""
    deadline = time.monotonic() + EVENT_TIMEOUT
    finished: dict[str, dict] = {}
    with live_service.http(token) as http:
        while len(finished) < len(job_ids):
            for job_id in set(job_ids) - set(finished):
                status = http.get(f"/api/v1/contacts/bulk/{job_id}").json()
                if status["status"] in ("done", "failed"):
                    finished[job_id] = status
            if len(finished) < len(job_ids):
                assert time.monotonic() < deadline, f"jobs still unfinished: {set(job_ids) - set(finished)}"
                time.sleep(POLL_INTERVAL)
    return finished


def _split(responses, batches):
    accepted = [(r.json(), b) for r, b in zip(responses, batches, strict=True) if r.status_code == 202]
    refused = [r for r in responses if r.status_code != 202]
    return accepted, refused


def test_parallel_requests_never_push_an_account_past_its_total_quota(live_service):
    limit = 20
    account = factories.account_make(total_limit=limit)
    users = [factories.user_make(account) for _ in range(3)]
    tokens = [factories.token_make(users[i % len(users)]) for i in range(REQUESTS)]
    batches = _batches(REQUESTS)
    assert REQUESTS * BATCH > limit

    responses = _post_all_at_once(live_service, tokens, batches)
    accepted, refused = _split(responses, batches)
    finished = _wait_until_finished(live_service, tokens[0], [job["uuid"] for job, _ in accepted])

    assert len(accepted) * BATCH <= limit
    # Distinct new contacts reserve exactly what they create: every place is used.
    assert len(accepted) == limit // BATCH
    assert all(r.status_code == 402 and r.json()["reason"] == "contact_total_quotas" for r in refused)
    assert all(s["status"] == "done" and s["created"] == BATCH for s in finished.values())
    held = set(Contact.objects.filter(account=account).values_list("email", flat=True))
    assert len(held) <= limit
    assert held == {c["email"] for _, batch in accepted for c in batch}


def test_parallel_requests_never_push_a_user_past_its_connect_daily_quota(live_service):
    limit = 10
    account = factories.account_make()
    user = factories.user_make(account, connect_daily_limit=limit)
    tokens = [factories.token_make(user) for _ in range(REQUESTS)]
    batches = _batches(REQUESTS, source="connect")

    responses = _post_all_at_once(live_service, tokens, batches)
    accepted, refused = _split(responses, batches)
    finished = _wait_until_finished(live_service, tokens[0], [job["uuid"] for job, _ in accepted])

    assert len(accepted) * BATCH <= limit
    assert len(accepted) == limit // BATCH
    assert all(r.status_code == 402 and r.json()["reason"] == "contact_connect_quotas" for r in refused)
    assert all(s["status"] == "done" and s["created"] == BATCH for s in finished.values())
    held = set(Contact.objects.filter(account=account, source="connect").values_list("email", flat=True))
    assert held == {c["email"] for _, batch in accepted for c in batch}
    assert ConnectUsage.objects.get(user=user, day=utc_today()).created == len(held)
    with live_service.http(tokens[0]) as http:
        assert http.get("/api/v1/quotas").json()["connectToday"] == {"limit": limit, "used": len(held)}


def test_an_operator_importing_into_several_accounts_at_once_never_passes_its_connect_daily_quota():
    # An admin operator's imports into other accounts hold those accounts' locks, not its
    # own: the connect quota, the operator's, must hold across them all the same.
    operator = factories.user_make(factories.account_make(), connect_daily_limit=BATCH, is_staff=True, is_superuser=True)
    accounts = [factories.account_make() for _ in range(REQUESTS)]
    batches = _batches(REQUESTS, source="connect")
    barrier = threading.Barrier(REQUESTS)

    owners = {account.pk: factories.user_make(account).pk for account in accounts}  # as the import form asks

    def import_into(account, contacts) -> str:
        request = bulk_request_parse({"list": {"name": "rush"}, "contacts": contacts})
        flags = BulkFlags(account_id=account.pk, default_owner_id=owners[account.pk])
        barrier.wait(timeout=30)
        try:
            bulk_job_create(user=operator, request=request, flags=flags)
        except QuotaExceeded as refused:
            return refused.reason
        finally:
            connection.close()
        return "accepted"

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        outcomes = list(pool.map(import_into, accounts, batches))

    assert sorted(outcomes) == ["accepted"] + ["contact_connect_quotas"] * (REQUESTS - 1)
