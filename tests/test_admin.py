"""The admin pages an operator watches jobs and contacts with answer, without per-row queries."""

import pytest
from django.test.utils import CaptureQueriesContext
from django.db import connection

from accounts.models import User
from contacts.bulk_input import bulk_request_parse
from contacts.models import BulkJob, Contact
from contacts.services import BulkFlags, bulk_job_create, bulk_job_process
from lists.models import ContactList
from quotas.models import UserQuota
from tests import factories


@pytest.fixture
def operator_client(client, db):
    operator = factories.user_make(factories.account_make(), is_staff=True, is_superuser=True)
    client.force_login(operator)
    return client


@pytest.mark.parametrize("path", ["/admin/contacts/contact/", "/admin/contacts/bulkjob/", "/admin/lists/contactlist/"])
def test_admin_changelists_answer_with_a_bounded_number_of_queries(operator_client, path):
    account = factories.account_make()
    user = factories.user_make(account)
    contact_list = factories.list_make(account)
    for i in range(30):
        factories.contact_make(account, contact_list, user, email=f"c{i}@example.test")
        BulkJob.objects.create(account=account, user=user, list=contact_list, payload=factories.payload_of([], owners={}), total=1)

    with CaptureQueriesContext(connection) as queries:
        response = operator_client.get(path)

    assert response.status_code == 200
    assert len(queries) < 15


def test_bulk_job_admin_is_read_only(operator_client):
    account = factories.account_make()
    user = factories.user_make(account)
    job = BulkJob.objects.create(account=account, user=user, list=factories.list_make(account), payload=factories.payload_of([], owners={}), total=1)

    page = operator_client.get(f"/admin/contacts/bulkjob/{job.pk}/change/")

    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert operator_client.get("/admin/contacts/bulkjob/add/").status_code == 403


@pytest.mark.parametrize("path", ["/admin/contacts/contact/", "/admin/contacts/bulkjob/", "/admin/lists/contactlist/"])
def test_staff_of_one_account_never_see_another_accounts_rows(client, db, path):
    from django.contrib.auth.models import Permission

    mine, theirs = factories.account_make(), factories.account_make()
    staff = factories.user_make(mine, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    shown = {}
    for account, marker in ((mine, "mine"), (theirs, "theirs")):
        owner = factories.user_make(account)
        contact_list = factories.list_make(account, f"list-{marker}")
        factories.contact_make(account, contact_list, owner, email=f"{marker}@example.test")
        job = BulkJob.objects.create(account=account, user=owner, list=contact_list, payload=factories.payload_of([], owners={}), total=1)
        shown[marker] = {
            "/admin/contacts/contact/": f"{marker}@example.test",
            "/admin/contacts/bulkjob/": str(job.pk),
            "/admin/lists/contactlist/": f"list-{marker}",
        }[path]
    client.force_login(staff)

    page = client.get(path).content.decode()

    assert shown["mine"] in page
    assert shown["theirs"] not in page


def test_a_user_who_owns_contacts_cannot_be_moved_to_another_account(operator_client):
    account, other = factories.account_make(), factories.account_make()
    owner, idle = factories.user_make(account), factories.user_make(account)
    factories.contact_make(account, factories.list_make(account), owner, email="kept@example.test")

    refused = operator_client.post(f"/admin/accounts/user/{owner.pk}/change/", factories.user_change_form(owner, other))
    moved = operator_client.post(f"/admin/accounts/user/{idle.pk}/change/", factories.user_change_form(idle, other))

    assert refused.status_code == 200
    assert "give those contacts another owner first" in refused.content.decode()
    owner.refresh_from_db()
    idle.refresh_from_db()
    assert owner.account_id == account.pk
    assert moved.status_code == 302 and idle.account_id == other.pk


def _staff_client(client, account, *permissions):
    from django.contrib.auth.models import Permission

    staff = factories.user_make(account, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=permissions))
    client.force_login(staff)
    return staff


@pytest.fixture
def theirs(db):
    """Another account, with a user and a list whose names must never reach staff of another."""
    account = factories.account_make("their-account-name")
    return account, factories.user_make(account, "their-user@example.test"), factories.list_make(account, "their-list")


def test_staff_forms_offer_and_accept_only_their_own_account(client, theirs):
    account, _, _ = theirs
    mine = factories.account_make("my-account-name")
    _staff_client(client, mine, "add_contactlist", "view_contactlist")

    form = client.get("/admin/lists/contactlist/add/").content.decode()
    refused = client.post("/admin/lists/contactlist/add/", {"account": account.pk, "name": "planted"})
    accepted = client.post("/admin/lists/contactlist/add/", {"account": mine.pk, "name": "mine"})

    assert "my-account-name" in form and "their-account-name" not in form
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert "their-account-name" not in refused.content.decode()
    assert accepted.status_code == 302
    assert list(ContactList.objects.filter(name__in=["planted", "mine"]).values_list("name", "account")) == [("mine", mine.pk)]


def test_staff_pick_quota_users_of_their_own_account_only(client, theirs):
    mine = factories.account_make()
    my_user = factories.user_make(mine, "my-user@example.test")
    _staff_client(client, mine, "add_userquota", "view_userquota")

    form = client.get("/admin/quotas/userquota/add/").content.decode()
    refused = client.post("/admin/quotas/userquota/add/", {"user": theirs[1].pk, "connect_daily_limit": "5"})

    assert my_user.email in form and "their-user@example.test" not in form
    assert refused.status_code == 200 and not UserQuota.objects.exists()


def test_contacts_are_not_edited_in_the_admin_and_adding_one_is_an_import(operator_client):
    account = factories.account_make()
    owner = factories.user_make(account)
    contact = factories.contact_make(account, factories.list_make(account), owner, email="kept@example.test")

    page = operator_client.get(f"/admin/contacts/contact/{contact.pk}/change/")
    post = operator_client.post(f"/admin/contacts/contact/{contact.pk}/change/", {"email": "changed@example.test"})
    add = operator_client.get("/admin/contacts/contact/add/")

    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert post.status_code == 403
    assert Contact.objects.get(pk=contact.pk).email == "kept@example.test"
    assert add.status_code == 302 and add["location"] == "/admin/contacts/contact/import/"


def test_staff_add_users_to_their_own_account_and_cannot_make_a_superuser(client, theirs):
    mine = factories.account_make("my-account-name")
    staff = _staff_client(client, mine, "add_user", "change_user", "view_user")

    added = client.post("/admin/accounts/user/add/", {
        "username": "new-colleague", "usable_password": "true", "password1": "a-Long-pass-phrase-1", "password2": "a-Long-pass-phrase-1",
    })
    form = client.get(f"/admin/accounts/user/{staff.pk}/change/").content.decode()
    changed = client.post(
        f"/admin/accounts/user/{staff.pk}/change/", {**factories.user_change_form(staff, mine), "is_staff": "on", "is_superuser": "on"}
    )

    assert added.status_code == 302 and changed.status_code == 302
    assert User.objects.get(username="new-colleague").account_id == mine.pk
    assert "my-account-name" in form and "their-account-name" not in form
    staff.refresh_from_db()
    assert staff.is_staff and not staff.is_superuser


def _job(account, user, contact_list, status=BulkJob.Status.QUEUED):
    return BulkJob.objects.create(
        account=account, user=user, list=contact_list, payload=factories.payload_of([], owners={}), total=1, status=status
    )


def test_a_list_or_user_whose_job_has_yet_to_run_is_not_deleted_and_is_once_it_ends(operator_client):
    account = factories.account_make()
    user = factories.user_make(account)
    contact_list = factories.list_make(account)
    job = _job(account, user, contact_list)

    list_refused = operator_client.post(f"/admin/lists/contactlist/{contact_list.pk}/delete/", {"post": "yes"})
    user_refused = operator_client.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})
    for refused, what in ((list_refused, "contact list"), (user_refused, "user")):
        page = refused.content.decode()
        assert f"Cannot delete {what}" in page and str(job.pk) in page  # the job that stops it
    assert BulkJob.objects.filter(pk=job.pk).exists() and ContactList.objects.filter(pk=contact_list.pk).exists()

    BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.DONE)
    deleted = operator_client.post(f"/admin/lists/contactlist/{contact_list.pk}/delete/", {"post": "yes"})
    assert deleted.status_code == 302
    assert not ContactList.objects.filter(pk=contact_list.pk).exists() and not BulkJob.objects.filter(pk=job.pk).exists()


def test_a_user_named_as_an_owner_by_a_job_yet_to_run_is_not_deleted_and_the_job_gives_them_the_contact(
    operator_client,
):
    account = factories.account_make()
    caller, owner = factories.user_make(account), factories.user_make(account)
    request = bulk_request_parse({"list": {"name": "L"}, "contacts": [{"email": "a@example.test", "owner": owner.email}]})
    job = bulk_job_create(user=caller, request=request, flags=BulkFlags())

    refused = operator_client.post(f"/admin/accounts/user/{owner.pk}/delete/", {"post": "yes"})
    assert "Cannot delete user" in refused.content.decode()
    assert User.objects.filter(pk=owner.pk).exists()

    bulk_job_process(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.created) == (BulkJob.Status.DONE, 1)
    assert Contact.objects.get(account=account, email="a@example.test").owner_id == owner.pk


def test_a_user_is_not_moved_to_another_account_while_its_accounts_jobs_run(operator_client):
    account, other = factories.account_make(), factories.account_make()
    user = factories.user_make(account)
    job = _job(account, factories.user_make(account), factories.list_make(account))

    refused = operator_client.post(f"/admin/accounts/user/{user.pk}/change/", factories.user_change_form(user, other))
    assert "still running" in refused.content.decode()
    user.refresh_from_db()
    assert user.account_id == account.pk

    BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.DONE)
    moved = operator_client.post(f"/admin/accounts/user/{user.pk}/change/", factories.user_change_form(user, other))
    user.refresh_from_db()
    assert moved.status_code == 302 and user.account_id == other.pk


def test_staff_never_reach_superusers_nor_leave_their_account(client, db):
    mine = factories.account_make()
    staff = _staff_client(client, mine, "change_user", "view_user")
    operator = factories.user_make(None, "operator@example.test", is_staff=True, is_superuser=True)
    superuser_of_mine = factories.user_make(mine, "boss@example.test", is_staff=True, is_superuser=True)

    listed = client.get("/admin/accounts/user/").content.decode()
    for superuser in (operator, superuser_of_mine):
        password = client.post(
            f"/admin/accounts/user/{superuser.pk}/password/", {"password1": "Taken-0ver-pass", "password2": "Taken-0ver-pass"}
        )
        assert password.status_code in (302, 404)
        superuser.refresh_from_db()
        assert superuser.check_password("pw") and superuser.email not in listed
    left = client.post(f"/admin/accounts/user/{staff.pk}/change/", {**factories.user_change_form(staff, None), "user_permissions": "1"})

    assert left.status_code == 302
    staff.refresh_from_db()
    assert staff.account_id == mine.pk and staff.user_permissions.count() == 2


def test_staff_of_no_account_are_offered_no_user_of_no_account(client, db):
    operator = factories.user_make(None, "operator@example.test", is_staff=True, is_superuser=True)
    _staff_client(client, None, "add_userquota", "view_userquota")

    form = client.get("/admin/quotas/userquota/add/").content.decode()
    refused = client.post("/admin/quotas/userquota/add/", {"user": operator.pk, "connect_daily_limit": "5"})

    assert operator.email not in form
    assert refused.status_code == 200 and not UserQuota.objects.exists()
