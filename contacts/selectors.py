"""Contact and bulk-job reads, always scoped to one account."""

import uuid

from django.db.models import F, Q, QuerySet

from .models import BulkJob, Contact
from .normalize import email_key, linkedin_key


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def contact_find(*, account_id: int, contact_id) -> Contact | None:
    pk = _uuid(contact_id)
    if pk is None:
        return None
    return Contact.objects.select_related("owner").filter(account_id=account_id, pk=pk).first()


def contacts_filtered(
    *,
    account_id: int,
    list_id: uuid.UUID | None = None,
    email: str | None = None,
    linkedin_url: str | None = None,
    owner_email: str | None = None,
) -> QuerySet[Contact]:
    contacts = Contact.objects.filter(account_id=account_id).select_related("owner")
    if list_id is not None:
        contacts = contacts.filter(list_id=list_id)
    if email:
        contacts = contacts.filter(email_key=email_key(email))
    if linkedin_url:
        contacts = contacts.filter(linkedin_key=linkedin_key(linkedin_url))
    if owner_email:
        contacts = contacts.filter(owner__email__iexact=owner_email)
    return contacts


def bulk_job_find(*, account_id: int, job_id) -> BulkJob | None:
    pk = _uuid(job_id)
    if pk is None:
        return None
    return BulkJob.objects.filter(account_id=account_id, pk=pk).defer("payload").first()


def bulk_job_of_user(*, user_id: int, job_id) -> BulkJob | None:
    """A job the user started (a socket only ever hears of its own user's jobs), in the
    user's account as it is now, or an admin import of theirs into another account while
    they are a superuser (who alone import into other accounts)."""
    pk = _uuid(job_id)
    if pk is None:
        return None
    in_reach = Q(account_id=F("user__account_id")) | Q(default_owner__isnull=False, user__is_superuser=True)
    return BulkJob.objects.filter(in_reach, user_id=user_id, pk=pk).defer("payload").first()


def contacts_owned_exist(*, account_id: int, user_id: int) -> bool:
    """Whether the user owns contacts of the account (which keeps the user in it)."""
    return Contact.objects.filter(account_id=account_id, owner_id=user_id).exists()


def bulk_jobs_unfinished_exist(*, account_id: int) -> bool:
    """Whether bulk jobs of the account have yet to apply all their contacts."""
    return BulkJob.objects.filter(account_id=account_id, status__in=BulkJob.UNFINISHED).exists()
