"""PostgreSQL keeps a contact's list and owner in the contact's account (migration 0018):
past every check of the code, whatever writes the row, and against a deletion or a move
running at the same time."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, NotSupportedError, OperationalError, connection, transaction
from django.utils import timezone

from accounts.models import User
from contacts.bulk_write import COLUMNS, copy_rows
from contacts.models import Contact
from lists.models import ContactList
from tests import factories
from tests.concurrent import a_backend_waits_for_a_lock, in_own_connection
from tests.live import EVENT_TIMEOUT, wait_for


@pytest.fixture
def two_accounts(db):
    mine, theirs = factories.account_make(), factories.account_make()
    return (
        (mine, factories.list_make(mine), factories.user_make(mine)),
        (theirs, factories.list_make(theirs), factories.user_make(theirs)),
    )


def _deleted_by_sql(table: str, pk) -> None:
    """A row deleted under the code: Django's PROTECT would refuse it in Python first."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])


def _copied(account, contact_list, owner, emails: list[str]) -> None:
    """Contacts written as a bulk job writes new ones: one binary COPY statement."""
    rows = [
        {
            **dict.fromkeys(COLUMNS), "id": uuid.uuid4(), "account_id": account.pk,
            "list_id": contact_list.pk, "owner_id": owner.pk, "email": email, "email_key": email,
            "collected_at": timezone.now(), "source": "api", "language": "en", "vars": "{}",
            "created_at": timezone.now(), "updated_at": timezone.now(),
        }
        for email in emails
    ]
    with connection.cursor() as cursor:
        copy_rows(cursor, Contact._meta.db_table, COLUMNS, [tuple(row[c] for c in COLUMNS) for row in rows])


@pytest.mark.parametrize("foreign", ["list", "owner"])
def test_a_statement_copying_contacts_is_refused_whole_if_one_names_another_accounts(two_accounts, foreign):
    (account, contact_list, owner), (_, their_list, their_owner) = two_accounts
    _copied(account, contact_list, owner, ["before@mine.test"])

    with pytest.raises(IntegrityError, match=f"contact_{foreign}_of_its_account"), transaction.atomic():
        _copied(account, contact_list, owner, ["fine@mine.test"])
        _copied(
            account,
            their_list if foreign == "list" else contact_list,
            their_owner if foreign == "owner" else owner,
            ["also-fine@mine.test", "leak@mine.test"],
        )

    assert list(Contact.objects.values_list("email", flat=True)) == ["before@mine.test"]


@pytest.mark.parametrize("foreign", ["list", "owner"])
def test_moving_a_contact_to_another_accounts_list_or_owner_is_refused(two_accounts, foreign):
    (account, contact_list, owner), (_, their_list, their_owner) = two_accounts
    contact = factories.contact_make(account, contact_list, owner, email="a@mine.test")
    change = {"list": their_list} if foreign == "list" else {"owner": their_owner}

    with pytest.raises(IntegrityError, match=f"contact_{foreign}_of_its_account"), transaction.atomic():
        Contact.objects.filter(pk=contact.pk).update(**change)

    contact.refresh_from_db()
    assert (contact.list_id, contact.owner_id) == (contact_list.pk, owner.pk)


def test_moving_a_contact_to_a_list_and_owner_of_its_account_is_allowed(two_accounts):
    (account, contact_list, owner), _ = two_accounts
    contact = factories.contact_make(account, contact_list, owner, email="a@mine.test")
    other_list, other_owner = factories.list_make(account), factories.user_make(account)

    Contact.objects.filter(pk=contact.pk).update(list=other_list, owner=other_owner)

    contact.refresh_from_db()
    assert (contact.list_id, contact.owner_id) == (other_list.pk, other_owner.pk)


@pytest.mark.parametrize("named", ["list", "owner"])
def test_a_list_or_user_that_contacts_name_cannot_be_deleted_under_the_code(two_accounts, named):
    (account, contact_list, owner), _ = two_accounts
    factories.contact_make(account, contact_list, owner, email="a@mine.test")
    table, pk = ("lists_contactlist", contact_list.pk) if named == "list" else ("accounts_user", owner.pk)

    with pytest.raises(IntegrityError, match=f"contact_{named}_of_its_account"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checked at the commit otherwise
        _deleted_by_sql(table, pk)

    assert ContactList.objects.filter(pk=contact_list.pk).exists()
    assert User.objects.filter(pk=owner.pk).exists()


def test_a_user_owning_contacts_cannot_be_moved_to_another_account_under_the_code(two_accounts):
    (account, contact_list, owner), (theirs, _, _) = two_accounts
    factories.contact_make(account, contact_list, owner, email="a@mine.test")

    with pytest.raises(IntegrityError, match="contact_owner_of_its_account"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checked at the commit otherwise
        User.objects.filter(pk=owner.pk).update(account=theirs)

    owner.refresh_from_db()
    assert owner.account_id == account.pk


def test_a_list_and_a_user_no_contact_names_can_be_deleted_and_renamed(two_accounts):
    (account, contact_list, owner), _ = two_accounts
    factories.contact_make(account, contact_list, owner, email="a@mine.test")
    ContactList.objects.filter(pk=contact_list.pk).update(name="Renamed")  # not a key: no check
    spare_list, spare_user = factories.list_make(account), factories.user_make(account)

    spare_list.delete()
    spare_user.delete()

    assert ContactList.objects.get(pk=contact_list.pk).name == "Renamed"


def _list_deleted(contact_list_pk) -> None:
    with transaction.atomic():
        _deleted_by_sql("lists_contactlist", contact_list_pk)


@pytest.mark.django_db(transaction=True)
def test_a_list_deleted_while_contacts_naming_it_are_written_fails_once_they_commit():
    account = factories.account_make()
    contact_list, owner = factories.list_make(account), factories.user_make(account)

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            _copied(account, contact_list, owner, ["a@mine.test", "b@mine.test"])  # the list's row now locked
            deleting = pool.submit(in_own_connection, _list_deleted, contact_list.pk)
            wait_for(a_backend_waits_for_a_lock, "the deletion to wait for the contacts' transaction")
        with pytest.raises(IntegrityError, match="contact_list_of_its_account"):
            deleting.result(timeout=EVENT_TIMEOUT)

    assert Contact.objects.filter(list_id=contact_list.pk).count() == 2
    assert ContactList.objects.filter(pk=contact_list.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_contacts_naming_a_list_deleted_meanwhile_fail_once_the_deletion_commits():
    account = factories.account_make()
    contact_list, owner = factories.list_make(account), factories.user_make(account)

    def written():
        with transaction.atomic():
            _copied(account, contact_list, owner, ["a@mine.test"])

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            _deleted_by_sql("lists_contactlist", contact_list.pk)
            writing = pool.submit(in_own_connection, written)
            wait_for(a_backend_waits_for_a_lock, "the contacts' statement to wait for the deletion")
        with pytest.raises(IntegrityError, match="contact_list_of_its_account"):
            writing.result(timeout=EVENT_TIMEOUT)

    assert not Contact.objects.exists()


def test_a_temporary_table_of_the_same_name_cannot_stand_in_for_the_accounts_lists(two_accounts):
    (account, contact_list, owner), (_, their_list, _) = two_accounts

    with pytest.raises(IntegrityError, match="contact_list_of_its_account"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMP TABLE lists_contactlist (id uuid, account_id bigint)")
            cursor.execute("INSERT INTO lists_contactlist VALUES (%s, %s)", [their_list.pk, account.pk])
        factories.contact_make(account, their_list, owner, email="leak@mine.test")

    assert not Contact.objects.exists()


@pytest.mark.django_db(transaction=True)  # checked at the commit
def test_a_user_moved_away_and_back_in_one_transaction_keeps_their_contacts():
    account, theirs = factories.account_make(), factories.account_make()
    owner = factories.user_make(account)
    factories.contact_make(account, factories.list_make(account), owner, email="a@mine.test")

    with transaction.atomic():
        User.objects.filter(pk=owner.pk).update(account=theirs)
        User.objects.filter(pk=owner.pk).update(account=account)

    owner.refresh_from_db()
    assert owner.account_id == account.pk


@pytest.mark.django_db(transaction=True)  # TRUNCATE waits for no pending check of the test's own
def test_the_accounts_lists_cannot_be_truncated_without_the_contacts_that_name_them():
    account = factories.account_make()
    contact_list = factories.list_make(account)
    factories.contact_make(account, contact_list, factories.user_make(account), email="a@mine.test")

    with pytest.raises(NotSupportedError, match="truncate"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE lists_contactlist CASCADE")

    assert ContactList.objects.filter(pk=contact_list.pk).exists()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE contacts_contact, lists_contactlist CASCADE")  # as a flush does
    assert not ContactList.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_list_is_deleted_only_under_read_committed():
    """A snapshot taken before would not see contacts naming the list committed since."""
    account = factories.account_make()
    contact_list = factories.list_make(account)

    with pytest.raises(OperationalError, match="READ COMMITTED"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        _deleted_by_sql("lists_contactlist", contact_list.pk)

    assert ContactList.objects.filter(pk=contact_list.pk).exists()
