"""Quotas through the API: the 402 of the bulk route (nothing written, nothing sent), what
counts against each quota, and GET /api/v1/quotas."""

import uuid
from datetime import timedelta

import pytest
from django.db.models import F
from django_tasks_db.models import DBTaskResult

from contacts.models import BulkJob, Contact, PlannedCreation
from contacts.services import bulk_job_process
from lists.models import ContactList
from quotas.models import ConnectUsage
from realtime.events import MESSAGE_TYPE, frame, starting
from tests import factories

BULK = "/api/v1/contacts/bulk"
QUOTAS = "/api/v1/quotas"


def _new(n: int, prefix: str = "new", **fields) -> list[dict]:
    return [{"email": f"{prefix}{i}-{uuid.uuid4().hex[:6]}@example.test", **fields} for i in range(n)]


def _bulk(client, contacts: list[dict], list_name: str = "quota-list"):
    return client.post(BULK, {"list": {"name": list_name}, "contacts": contacts}, format="json")


def _assert_first_message_is_starting_of(channel: str, response) -> None:
    """The next message on the user's channel is the `starting` of this accepted job: anything
    a refused request had sent would have been queued on the channel before it."""
    assert response.status_code == 202, response.content
    accepted = response.json()
    assert factories.events_next_message(channel) == {
        "type": MESSAGE_TYPE,
        "frames": [frame(starting(job_id=accepted["uuid"], list_id=accepted["listId"]))],
    }


def _process_all_jobs() -> None:
    """Run the queued jobs in-process, oldest first, as a worker would."""
    jobs = BulkJob.objects.filter(status__in=BulkJob.UNFINISHED).order_by("created_at")
    for job_id in jobs.values_list("pk", flat=True):
        bulk_job_process(job_id=job_id)


# -- 402: the body, nothing written, nothing sent ------------------------------------------


@pytest.mark.django_db
def test_total_quota_refusal_answers_402_writes_nothing_and_sends_no_event():
    account = factories.account_make(total_limit=3)
    user = factories.user_make(account)
    api = factories.api_client_make(user)
    held = factories.list_make(account, "held")
    existing = factories.contact_make(account, held, user, email="held@example.test")
    tasks_before = DBTaskResult.objects.count()

    with factories.events_subscribed(user) as channel:
        refused = _bulk(api, _new(3), list_name="never-created")
        assert refused.status_code == 402, refused.content
        body = refused.json()
        assert set(body) == {"reason", "detail"}
        assert body["reason"] == "contact_total_quotas"
        assert isinstance(body["detail"], str) and body["detail"]

        assert list(Contact.objects.filter(account=account)) == [existing]
        assert not ContactList.objects.filter(account=account, name="never-created").exists()
        assert not BulkJob.objects.filter(account=account).exists()
        assert DBTaskResult.objects.count() == tasks_before

        # An update of the held contact is accepted; its `starting` is the group's first message.
        _assert_first_message_is_starting_of(channel, _bulk(api, [{"email": "held@example.test"}]))


@pytest.mark.django_db
def test_connect_quota_refusal_answers_402_writes_nothing_and_sends_no_event():
    account = factories.account_make()
    user = factories.user_make(account, connect_daily_limit=2)
    api = factories.api_client_make(user)

    with factories.events_subscribed(user) as channel:
        refused = _bulk(api, _new(3, source="connect"), list_name="never-created")
        assert refused.status_code == 402, refused.content
        body = refused.json()
        assert set(body) == {"reason", "detail"}
        assert body["reason"] == "contact_connect_quotas"
        assert isinstance(body["detail"], str) and body["detail"]

        assert not Contact.objects.filter(account=account).exists()
        assert not ContactList.objects.filter(account=account).exists()
        assert not BulkJob.objects.filter(account=account).exists()
        assert not ConnectUsage.objects.filter(user=user).exists()

        _assert_first_message_is_starting_of(channel, _bulk(api, _new(2, source="connect")))


@pytest.mark.django_db
def test_quota_refusal_with_a_list_id_leaves_the_list_empty():
    account = factories.account_make(total_limit=0)
    user = factories.user_make(account)
    target = factories.list_make(account, "target")

    response = factories.api_client_make(user).post(
        BULK, {"list": {"id": str(target.pk)}, "contacts": _new(1)}, format="json"
    )

    assert response.status_code == 402
    assert response.json()["reason"] == "contact_total_quotas"
    assert not Contact.objects.filter(list=target).exists()


# -- What counts against the total quota ----------------------------------------------------


@pytest.mark.django_db
def test_updates_of_existing_contacts_pass_a_full_total_quota():
    account = factories.account_make(total_limit=2)
    user = factories.user_make(account, connect_daily_limit=0)
    held = factories.list_make(account, "held")
    factories.contact_make(account, held, user, email="ada@example.test")
    factories.contact_make(account, held, user, linkedin_url="https://www.linkedin.com/in/grace")
    contacts = [
        {"email": "ADA@Example.test", "firstName": "Ada", "source": "connect"},
        {"linkedinUrl": "http://WWW.LinkedIn.com/in/grace/?trk=x", "firstName": "Grace"},
        # No contact has this email, but the LinkedIn URL matches: an update, not a creation.
        {"email": "grace@example.test", "linkedinUrl": "https://www.linkedin.com/in/grace", "source": "connect"},
    ]

    response = _bulk(factories.api_client_make(user), contacts)

    assert response.status_code == 202, response.content


@pytest.mark.django_db
def test_total_quota_counts_only_the_contacts_a_request_creates():
    account = factories.account_make(total_limit=3)
    user = factories.user_make(account)
    api = factories.api_client_make(user)
    held = factories.list_make(account, "held")
    factories.contact_make(account, held, user, email="a@example.test")
    factories.contact_make(account, held, user, email="b@example.test")
    # Two existing contacts and one new one, named twice: one creation, the last free place.
    fits = [
        {"email": "a@example.test"},
        {"email": "new@example.test"},
        {"email": "B@example.test"},
        {"email": "NEW@example.test", "firstName": "again"},
    ]
    too_many = [{"email": "a@example.test"}, *_new(2)]

    assert _bulk(api, too_many).status_code == 402
    assert _bulk(api, fits).status_code == 202


@pytest.mark.django_db
def test_unfinished_jobs_reserve_their_creations_against_the_total_quota():
    account = factories.account_make(total_limit=5)
    alice = factories.user_make(account)
    bob = factories.user_make(account)

    assert _bulk(factories.api_client_make(alice), _new(3, "alice")).status_code == 202
    refused = _bulk(factories.api_client_make(bob), _new(3, "bob"))
    accepted = _bulk(factories.api_client_make(bob), _new(2, "bob"))

    assert refused.status_code == 402 and refused.json()["reason"] == "contact_total_quotas"
    assert accepted.status_code == 202


@pytest.mark.django_db
def test_a_job_whose_match_is_taken_away_by_an_earlier_job_cannot_pass_the_total_quota():
    account = factories.account_make(total_limit=2)
    user = factories.user_make(account)
    api = factories.api_client_make(user)
    held = factories.list_make(account)
    factories.contact_make(account, held, user, email="a@example.test", linkedin_url="https://www.linkedin.com/in/one")
    factories.contact_make(account, held, user, email="z@example.test")
    # Both are updates when accepted; processed in order, the second one creates a contact.
    moves_the_url = _bulk(api, [{"email": "a@example.test", "linkedinUrl": "https://www.linkedin.com/in/two"}])
    matched_by_old_url = _bulk(api, [{"linkedinUrl": "https://www.linkedin.com/in/one"}])
    assert moves_the_url.status_code == matched_by_old_url.status_code == 202
    _process_all_jobs()

    assert Contact.objects.filter(account=account).count() == 2
    refused = BulkJob.objects.get(pk=matched_by_old_url.json()["uuid"])
    assert (refused.status, refused.created, refused.failed) == ("done", 0, 1)
    assert refused.errors == [
        {"index": 0, "message": "contact_total_quotas: no room left under the quota to create this contact"}
    ]


@pytest.mark.django_db
def test_a_job_whose_match_is_taken_away_cannot_pass_the_connect_quota_either():
    account = factories.account_make()
    user = factories.user_make(account, connect_daily_limit=0)
    api = factories.api_client_make(user)
    held = factories.list_make(account)
    factories.contact_make(account, held, user, email="a@example.test", linkedin_url="https://www.linkedin.com/in/one")
    moves_the_url = _bulk(api, [{"email": "a@example.test", "linkedinUrl": "https://www.linkedin.com/in/two"}])
    matched_by_old_url = _bulk(api, [{"linkedinUrl": "https://www.linkedin.com/in/one", "source": "connect"}])
    assert moves_the_url.status_code == matched_by_old_url.status_code == 202
    _process_all_jobs()

    assert not Contact.objects.filter(account=account, source="connect").exists()
    refused = BulkJob.objects.get(pk=matched_by_old_url.json()["uuid"])
    assert refused.errors == [
        {"index": 0, "message": "contact_connect_quotas: no room left under the quota to create this contact"}
    ]


@pytest.mark.django_db
def test_total_quota_of_one_account_ignores_another_accounts_contacts():
    mine = factories.account_make(total_limit=1)
    other = factories.account_make(total_limit=1)
    other_user = factories.user_make(other)
    factories.contact_make(other, factories.list_make(other), other_user, email="x@example.test")

    response = _bulk(factories.api_client_make(factories.user_make(mine)), [{"email": "x@example.test"}])

    assert response.status_code == 202


# -- What counts against the connect quota --------------------------------------------------


@pytest.mark.django_db
def test_connect_quota_counts_only_creations_with_source_connect():
    account = factories.account_make()
    user = factories.user_make(account, connect_daily_limit=1)
    api = factories.api_client_make(user)
    other_sources = [
        {"email": f"s{i}@example.test", "source": source}
        for i, source in enumerate(["manual", "import", "api"])
    ] + _new(1)  # no source: manual

    assert _bulk(api, other_sources).status_code == 202
    assert _bulk(api, _new(1, source="connect")).status_code == 202
    refused = _bulk(api, _new(1, source="connect"))

    assert refused.status_code == 402 and refused.json()["reason"] == "contact_connect_quotas"


@pytest.mark.django_db
def test_connect_updates_pass_a_spent_connect_quota():
    account = factories.account_make()
    user = factories.user_make(account, connect_daily_limit=0)
    held = factories.list_make(account)
    factories.contact_make(account, held, user, email="met@example.test")

    response = _bulk(factories.api_client_make(user), [{"email": "MET@example.test", "source": "connect"}])

    assert response.status_code == 202, response.content


@pytest.mark.django_db
def test_connect_quota_is_per_user():
    account = factories.account_make()
    alice = factories.user_make(account, connect_daily_limit=2)
    bob = factories.user_make(account, connect_daily_limit=2)

    assert _bulk(factories.api_client_make(alice), _new(2, "alice", source="connect")).status_code == 202
    assert _bulk(factories.api_client_make(alice), _new(1, "alice", source="connect")).status_code == 402
    assert _bulk(factories.api_client_make(bob), _new(2, "bob", source="connect")).status_code == 202


@pytest.mark.django_db
def test_connect_quota_is_per_utc_day():
    account = factories.account_make()
    user = factories.user_make(account, connect_daily_limit=2)
    api = factories.api_client_make(user)
    assert _bulk(api, _new(2, "day1", source="connect")).status_code == 202
    _process_all_jobs()
    assert Contact.objects.filter(account=account, source="connect").count() == 2
    assert _bulk(api, _new(1, "day1", source="connect")).status_code == 402

    # A day passes: what the user created counts for the day it was created.
    ConnectUsage.objects.filter(user=user).update(day=F("day") - timedelta(days=1))
    Contact.objects.filter(account=account).update(created_at=F("created_at") - timedelta(days=1))

    assert _bulk(api, _new(2, "day2", source="connect")).status_code == 202


@pytest.mark.django_db
def test_processed_connect_creations_keep_counting_for_the_day():
    account = factories.account_make()
    user = factories.user_make(account, connect_daily_limit=3)
    api = factories.api_client_make(user)
    assert _bulk(api, _new(2, source="connect")).status_code == 202
    _process_all_jobs()

    assert _bulk(api, _new(2, source="connect")).status_code == 402
    assert _bulk(api, _new(1, source="connect")).status_code == 202


# -- GET /api/v1/quotas ----------------------------------------------------------------------


@pytest.mark.django_db
def test_quotas_report_null_limits_when_unlimited(api):
    response = api.get(QUOTAS)

    assert response.status_code == 200
    assert response.json() == {
        "total": {"limit": None, "used": 0},
        "connectToday": {"limit": None, "used": 0},
    }


@pytest.mark.django_db
def test_quotas_report_limits_and_what_is_held_or_reserved():
    account = factories.account_make(total_limit=10)
    user = factories.user_make(account, connect_daily_limit=5)
    colleague = factories.user_make(account, connect_daily_limit=5)
    api = factories.api_client_make(user)
    held = factories.list_make(account)
    factories.contact_make(account, held, user, email="a@example.test")
    factories.contact_make(account, held, colleague, email="b@example.test")
    # A colleague's connect creations count for the account, not for this user's day.
    assert _bulk(factories.api_client_make(colleague), _new(1, "col", source="connect")).status_code == 202
    assert _bulk(api, [{"email": "a@example.test", "source": "connect"}, *_new(2, source="connect"), *_new(1)]).status_code == 202

    reserved = api.get(QUOTAS).json()
    _process_all_jobs()
    held_now = api.get(QUOTAS).json()

    expected = {"total": {"limit": 10, "used": 6}, "connectToday": {"limit": 5, "used": 2}}
    assert reserved == expected
    assert held_now == expected
    assert Contact.objects.filter(account=account).count() == 6


@pytest.mark.django_db
def test_quotas_ignore_another_accounts_contacts():
    mine = factories.account_make(total_limit=4)
    other = factories.account_make()
    other_user = factories.user_make(other)
    factories.contact_make(other, factories.list_make(other), other_user, email="o@example.test")

    response = factories.api_client_make(factories.user_make(mine)).get(QUOTAS)

    assert response.json()["total"] == {"limit": 4, "used": 0}


@pytest.mark.django_db
def test_quotas_need_the_read_scope():
    user = factories.user_make(factories.account_make())

    response = factories.api_client_make(user, scope="contacts:write").get(QUOTAS)

    assert response.status_code == 403
    assert "errors" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("quota", ["total", "connect"])
def test_a_request_naming_contacts_a_queued_job_is_to_create_plans_updates_not_creations(quota):
    account = factories.account_make(total_limit=2 if quota == "total" else None)
    user = factories.user_make(account, connect_daily_limit=2 if quota == "connect" else None)
    api = factories.api_client_make(user)
    contacts = [
        {"email": "ada@example.test", "source": "connect"},
        {"linkedinUrl": "https://linkedin.com/in/grace", "source": "connect"},
    ]
    first = _bulk(api, contacts)

    # A retry without a key while the first job waits: in turn, its rows update what the
    # first creates, so the quota, full after the first, has room for it.
    again = _bulk(api, [{**contacts[0], "firstName": "Ada"}, {**contacts[1], "email": "grace@example.test"}])
    more = _bulk(api, _new(1, source="connect"))

    assert (first.status_code, again.status_code, more.status_code) == (202, 202, 402)
    assert PlannedCreation.objects.filter(job_id=first.json()["uuid"]).count() == 2
    for response in (first, again):
        bulk_job_process(job_id=response.json()["uuid"])
    assert not PlannedCreation.objects.exists()  # a job's plan goes as it ends
    second = BulkJob.objects.get(pk=again.json()["uuid"])
    assert (second.status, second.created, second.updated, second.failed) == ("done", 0, 2, 0)
    assert sorted(Contact.objects.filter(account=account).values_list("email", "first_name")) == [
        ("ada@example.test", "Ada"), ("grace@example.test", None),
    ]
