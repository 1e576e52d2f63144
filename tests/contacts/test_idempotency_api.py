"""`Idempotency-Key` on the bulk route: a retry answers the job it already got."""

import json
from datetime import timedelta

import pytest
from django.db.models import F

from accounts.models import User
from contacts.bulk_input import bulk_request_parse_json
from contacts.idempotency import RequestKey
from contacts.models import BulkJob, Contact, IdempotencyKey
from contacts.services import FIRST_ANSWER_WITHIN, BulkFlags, bulk_job_create, bulk_job_process
from tests import factories

pytestmark = pytest.mark.django_db

BODY = {"list": {"name": "Leads"}, "contacts": [{"email": "a@example.test"}, {"email": "b@example.test"}]}


def _post(api, body=BODY, key="retry-1", query=""):
    return api.post(f"/api/v1/contacts/bulk{query}", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_and_body_answers_the_same_job_without_a_second_job_or_charge():
    account = factories.account_make(total_limit=2)
    api = factories.api_client_make(factories.user_make(account))

    first, retry = _post(api), _post(api)

    assert first.status_code == retry.status_code == 202
    assert retry.json()["uuid"] == first.json()["uuid"]
    assert BulkJob.objects.filter(account=account).count() == 1  # and the quota, full after the
    # first request, was not charged again: the retry is not a 402.


def test_a_retry_answers_its_job_even_once_the_owner_it_names_has_gone():
    account = factories.account_make()
    api = factories.api_client_make(factories.user_make(account))
    colleague = factories.user_make(account, "colleague@example.test")
    body = {"list": {"name": "Leads"}, "contacts": [{"email": "a@example.test", "owner": "colleague@example.test"}]}
    first = _post(api, body)
    User.objects.filter(pk=colleague.pk).update(is_active=False)

    retry = _post(api, body)

    assert first.status_code == retry.status_code == 202
    assert retry.json()["uuid"] == first.json()["uuid"]


def test_same_key_with_another_body_answers_422_and_writes_nothing():
    account = factories.account_make()
    api = factories.api_client_make(factories.user_make(account))
    assert _post(api).status_code == 202

    other = _post(api, {**BODY, "contacts": [{"email": "c@example.test"}]})

    assert other.status_code == 422
    assert other.json() == {"errors": [{
        "field": "Idempotency-Key",
        "message": "was used with another request in the last 24 hours; use a new key for a new request",
    }]}
    assert BulkJob.objects.filter(account=account).count() == 1


def test_same_key_with_other_flags_is_another_request():
    api = factories.api_client_make(factories.user_make(factories.account_make()))
    assert _post(api).status_code == 202

    assert _post(api, query="?moveToList=true").status_code == 422


def test_keys_of_different_accounts_do_not_meet():
    first = _post(factories.api_client_make(factories.user_make(factories.account_make())))
    second = _post(factories.api_client_make(factories.user_make(factories.account_make())))

    assert first.status_code == second.status_code == 202
    assert first.json()["uuid"] != second.json()["uuid"]


def test_keys_of_different_users_of_one_account_do_not_meet():
    account = factories.account_make()
    first = _post(factories.api_client_make(factories.user_make(account)))
    other_body = _post(factories.api_client_make(factories.user_make(account)), {**BODY, "contacts": [{"email": "c@example.test"}]})
    same_body = _post(factories.api_client_make(factories.user_make(account)))

    assert first.status_code == other_body.status_code == same_body.status_code == 202
    assert len({first.json()["uuid"], other_body.json()["uuid"], same_body.json()["uuid"]}) == 3


def test_a_key_older_than_24_hours_starts_a_new_job():
    account = factories.account_make()
    api = factories.api_client_make(factories.user_make(account))
    first = _post(api)
    IdempotencyKey.objects.update(created_at=IdempotencyKey.objects.get().created_at - timedelta(hours=25))

    again = _post(api)

    assert again.status_code == 202 and again.json()["uuid"] != first.json()["uuid"]
    assert BulkJob.objects.filter(account=account).count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "clé"])
def test_unusable_key_answers_400_naming_the_header(key):
    api = factories.api_client_make(factories.user_make(factories.account_make()))

    response = _post(api, key=key)

    assert response.status_code == 400
    assert response.json() == {"errors": [{"field": "Idempotency-Key", "message": "must be 1 to 255 printable ASCII characters"}]}
    assert not Contact.objects.exists() and not BulkJob.objects.exists()


@pytest.mark.parametrize("first_request", ["answering", "dead"])
def test_a_retry_answers_for_its_first_request_only_if_that_one_died_before_its_202(first_request):
    user = factories.user_make(factories.account_make())
    raw = json.dumps(BODY).encode()
    # The first request, stopped after its commit: its job runs, and its `ending` waits
    # for a 202.
    job = bulk_job_create(
        user=user, request=bulk_request_parse_json(raw), flags=BulkFlags(),
        request_key=RequestKey.of("retry-1", body=raw, query=""), answered_later=True,
    )
    bulk_job_process(job_id=job.pk)
    if first_request == "dead":
        BulkJob.objects.filter(pk=job.pk).update(created_at=F("created_at") - FIRST_ANSWER_WITHIN * 2)

    retry = factories.api_client_make(user).generic(
        "POST", "/api/v1/contacts/bulk", raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="retry-1"
    )

    assert retry.status_code == 202 and retry.json()["uuid"] == str(job.pk)
    # Still answering, the first request's own 202 lets the `ending` go, not the retry's.
    assert BulkJob.objects.get(pk=job.pk).answer_pending is (first_request == "answering")
