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
