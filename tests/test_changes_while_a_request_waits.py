"""What an admin changes while a bulk request waits for its account's lock (a worker
holds it for each chunk it writes): a user moved away, a list deleted. The request answers
as the account is once it has the lock, and no one waits for the other forever
(PostgreSQL's row locks)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import transaction

from accounts.models import Account, User
from contacts.bulk_input import BodyProblems, bulk_request_parse
from contacts.models import BulkJob
from lists.models import ContactList
from contacts.services import BulkFlags, bulk_job_create
from quotas.services import user_quota_lock
from tests import factories
from tests.concurrent import a_backend_waits_for_a_lock, in_own_connection
from tests.live import EVENT_TIMEOUT, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_owner_moved_away_while_the_request_waits_for_the_accounts_lock_is_refused():
    account, other = factories.account_make(), factories.account_make()
    caller = factories.user_make(account)
    owner = factories.user_make(account, "owner@example.test")
    request = bulk_request_parse(
        {"list": {"name": "L"}, "contacts": [{"email": "a@example.test", "owner": "owner@example.test"}]}
    )

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=account.pk)  # as the admin's check of a move holds it
            accepting = pool.submit(in_own_connection, bulk_job_create, user=caller, request=request, flags=BulkFlags())
            wait_for(a_backend_waits_for_a_lock, "the request to wait for the account's lock")
            User.objects.filter(pk=owner.pk).update(account=other)
        with pytest.raises(BodyProblems) as refused:
            accepting.result(timeout=EVENT_TIMEOUT)

    assert refused.value.errors == [{"index": 0, "field": "owner", "message": "no user of your account has this email"}]
    assert not BulkJob.objects.exists()


def test_a_caller_moved_away_while_the_request_waits_for_the_accounts_lock_gets_403(api, user):
    other = factories.account_make()
    body = {"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]}

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=user.account_id)
            posting = pool.submit(in_own_connection, api.post, "/api/v1/contacts/bulk", body, format="json")
            wait_for(a_backend_waits_for_a_lock, "the request to wait for the account's lock")
            User.objects.filter(pk=user.pk).update(account=other)
        response = posting.result(timeout=EVENT_TIMEOUT)

    assert response.status_code == 403
    assert response.json() == {"errors": [{"message": "Your user no longer belongs to this account."}]}
    assert not BulkJob.objects.exists()


def test_an_import_whose_default_owner_moved_away_while_it_waits_for_the_lock_is_refused():
    account, other = factories.account_make(), factories.account_make()
    operator = factories.user_make(None, is_staff=True, is_superuser=True)
    owner = factories.user_make(account)
    flags = BulkFlags(account_id=account.pk, default_owner_id=owner.pk, default_source="import")
    request = bulk_request_parse({"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]})

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=account.pk)
            accepting = pool.submit(in_own_connection, bulk_job_create, user=operator, request=request, flags=flags)
            wait_for(a_backend_waits_for_a_lock, "the import to wait for the account's lock")
            User.objects.filter(pk=owner.pk).update(account=other)
        with pytest.raises(BodyProblems) as refused:
            accepting.result(timeout=EVENT_TIMEOUT)

    assert refused.value.errors == [
        {"message": "The default owner is no longer an active user of the account: import again."}
    ]
    assert not BulkJob.objects.exists()


@pytest.mark.parametrize("from_an_account", [True, False], ids=["moved", "of no account until now"])
def test_moving_a_user_waits_for_an_import_into_the_new_account_without_deadlocking_it(client, from_an_account):
    client.force_login(factories.user_make(factories.account_make(), is_staff=True, is_superuser=True))
    account, other = factories.account_make(), factories.account_make()
    user = factories.user_make(account if from_an_account else None)

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            # An import into the new account, by the user being moved, with a connect quota:
            # the account's lock first, the user's next (quotas.services).
            Account.objects.select_for_update().get(pk=other.pk)
            moving = pool.submit(
                in_own_connection,
                client.post,
                f"/admin/accounts/user/{user.pk}/change/",
                factories.user_change_form(user, other),
            )
            wait_for(a_backend_waits_for_a_lock, "the move to wait for the new account")
            user_quota_lock(user_id=user.pk)  # a deadlock, were the move holding the user's row
        response = moving.result(timeout=EVENT_TIMEOUT)

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.account_id == other.pk


def _accepted_while_its_list_is_deleted(*, by: str):
    """bulk_job_create's outcome for a request naming a list (by id or name) that an admin
    deletes while the request waits for the account's lock."""
    account = factories.account_make()
    user = factories.user_make(account)
    doomed = factories.list_make(account, name="Leads")
    named = {"id": str(doomed.pk)} if by == "id" else {"name": "Leads"}
    request = bulk_request_parse({"list": named, "contacts": [{"email": "a@example.test"}]})
    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=account.pk)
            accepting = pool.submit(in_own_connection, bulk_job_create, user=user, request=request, flags=BulkFlags())
            wait_for(a_backend_waits_for_a_lock, "the request to wait for the account's lock")
            ContactList.objects.filter(pk=doomed.pk).delete()
        return accepting.result(timeout=EVENT_TIMEOUT), doomed


def test_a_list_named_by_id_and_deleted_while_the_request_waits_is_refused():
    with pytest.raises(BodyProblems) as refused:
        _accepted_while_its_list_is_deleted(by="id")

    assert refused.value.errors == [{"field": "list", "message": "no list of your account has this id"}]
    assert not BulkJob.objects.exists()


def test_a_list_named_by_name_and_deleted_while_the_request_waits_is_made_again():
    job, doomed = _accepted_while_its_list_is_deleted(by="name")

    assert job.list.name == "Leads" and job.list_id != doomed.pk


def test_a_list_deleted_while_a_request_stores_its_job_waits_and_is_refused_as_protected(client):
    client.force_login(factories.user_make(factories.account_make(), is_staff=True, is_superuser=True))
    account = factories.account_make()
    user = factories.user_make(account)
    named = factories.list_make(account, name="Leads")

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            # A request storing its job under the account's lock, as bulk_job_create does.
            Account.objects.select_for_update().get(pk=account.pk)
            deleting = pool.submit(
                in_own_connection, client.post, f"/admin/lists/contactlist/{named.pk}/delete/", {"post": "yes"}
            )
            wait_for(a_backend_waits_for_a_lock, "the deletion to wait for the account's lock")
            BulkJob.objects.create(
                account=account, user=user, list=named, payload=factories.payload_of([], owners={}), total=1
            )
        response = deleting.result(timeout=EVENT_TIMEOUT)

    assert response.status_code == 302 and response.url.endswith(f"/{named.pk}/delete/")
    assert ContactList.objects.filter(pk=named.pk).exists()


def test_the_delete_selected_action_deletes_lists_of_several_accounts(client):
    client.force_login(factories.user_make(factories.account_make(), is_staff=True, is_superuser=True))
    lists = [factories.list_make(factories.account_make()) for _ in range(2)]

    response = client.post(
        "/admin/lists/contactlist/", {"action": "delete_selected", "post": "yes", "_selected_action": [str(x.pk) for x in lists]}
    )

    assert response.status_code == 302
    assert not ContactList.objects.filter(pk__in=[x.pk for x in lists]).exists()


def test_the_delete_selected_action_racing_a_request_waits_and_is_refused_as_protected(client):
    client.force_login(factories.user_make(factories.account_make(), is_staff=True, is_superuser=True))
    account = factories.account_make()
    named = factories.list_make(account)

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=account.pk)
            deleting = pool.submit(
                in_own_connection, client.post, "/admin/lists/contactlist/",
                {"action": "delete_selected", "post": "yes", "_selected_action": [str(named.pk)]},
                follow=True,
            )
            wait_for(a_backend_waits_for_a_lock, "the deletion to wait for the account's lock")
            BulkJob.objects.create(
                account=account, user=factories.user_make(account), list=named,
                payload=factories.payload_of([], owners={}), total=1,
            )
        page = deleting.result(timeout=EVENT_TIMEOUT).content.decode()

    assert "Successfully deleted" not in page
    assert "Not deleted: Cannot delete some instances" in page and "BulkJob.list" in page
    assert ContactList.objects.filter(pk=named.pk).exists()
