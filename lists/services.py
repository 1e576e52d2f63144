"""List writes."""

from django.db import IntegrityError, transaction

from .models import ContactList


class ListNameTaken(Exception):
    pass


def list_create(*, account_id: int, name: str) -> ContactList:
    """Create a list; raise ListNameTaken if the account has one of that name."""
    try:
        with transaction.atomic():
            return ContactList.objects.create(account_id=account_id, name=name)
    except IntegrityError:
        raise ListNameTaken(name) from None


def list_get_or_create(*, account_id: int, name: str) -> ContactList:
    """The account's list of that name, created if it has none (callers hold the account lock)."""
    contact_list, _ = ContactList.objects.get_or_create(account_id=account_id, name=name)
    return contact_list


def list_held(*, account_id: int, list_id) -> bool:
    """Whether the list is still the account's, locked against deletion until the
    transaction ends (a bulk request names it in the job it stores)."""
    return ContactList.objects.select_for_update(no_key=True).filter(pk=list_id, account_id=account_id).exists()
