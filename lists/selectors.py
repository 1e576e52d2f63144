"""List reads, always scoped to one account."""

import uuid

from django.db.models import Count, QuerySet

from .models import ContactList


def list_find(*, account_id: int, list_id: str, with_count: bool = False) -> ContactList | None:
    """The account's list with this id (and its `contact_count`, if asked); None for a
    malformed id or another account's list."""
    try:
        pk = uuid.UUID(str(list_id))
    except ValueError:
        return None
    lists = lists_with_counts(account_id=account_id) if with_count else ContactList.objects.filter(account_id=account_id)
    return lists.filter(pk=pk).first()


def list_find_by_name(*, account_id: int, name: str) -> ContactList | None:
    return ContactList.objects.filter(account_id=account_id, name=name).first()


def lists_with_counts(*, account_id: int) -> QuerySet[ContactList]:
    return ContactList.objects.filter(account_id=account_id).annotate(contact_count=Count("contacts"))
