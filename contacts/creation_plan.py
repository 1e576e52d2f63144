"""How many contacts a bulk request would create, planned only where a quota counts them:
against the account's contacts, and those its unfinished jobs are yet to create (an
account's jobs apply in turn, contacts.job_order), so a row naming one of those plans an
update of it."""

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.utils import timezone

from accounts.models import User
from quotas.selectors import quota_limits

from .bulk_input import BulkBody
from .bulk_write import contacts_matching
from .job_rows import JobRows
from .planned_creations import planned_creations_pending
from .upsert import ContactImage, UpsertOptions, row_keys

if TYPE_CHECKING:
    from .services import BulkFlags


@dataclass(frozen=True)
class CreationPlan:
    """The creations a request would make, and the keys of the contacts it would create."""

    creates: int = 0
    connect_creates: int = 0
    planned: list = field(default_factory=list)


def creation_plan(*, account_id: int, user: User, request: BulkBody, payload: bytes, flags: "BulkFlags") -> CreationPlan:
    """The creations to reserve: none where no quota limits them (planning costs a query
    per key and a pass over the rows, worth paying only when a quota needs the count)."""
    limits = quota_limits(account_id=account_id, user_id=user.pk)
    connect_limited = limits.connect_daily is not None and "connect" in {
        flags.default_source if source is None else source for source in request.sources()
    }
    if limits.total is None and not connect_limited:
        return CreationPlan()
    rows = JobRows(payload)
    return _creations(account_id=account_id, user=user, rows=rows.rows(0, rows.total), flags=flags)


def _creations(*, account_id: int, user: User, rows: list[dict], flags: "BulkFlags") -> CreationPlan:
    """How many contacts the rows would create (and how many with source `connect`) after
    the account's unfinished jobs: as they are now, plus those the jobs are yet to create."""
    options = UpsertOptions(
        account_id=account_id,
        list_id=None,
        caller_id=flags.default_owner_id or user.pk,
        default_source=flags.default_source,
        move_to_list=flags.move_to_list,
        replace_owner=flags.replace_owner,
        collected_at_default=timezone.now(),
    )
    emails, linkedins = row_keys(rows)
    found = contacts_matching(account_id, emails, linkedins)
    image = ContactImage.of([*found, *_pending_creations(account_id, emails, linkedins, found)])
    created, connect = [], 0
    for index, row in enumerate(rows):
        outcome = image.apply(row, options)
        if outcome.created:
            created.append((index, outcome.contact))
            connect += row.get("source", options.default_source) == "connect"
    planned = [(index, contact["email_key"], contact["linkedin_key"]) for index, contact in created]
    return CreationPlan(creates=len(created), connect_creates=connect, planned=planned)


def _pending_creations(account_id: int, emails: set[str], linkedins: set[str], found: list[dict]) -> list[dict]:
    """The contacts the account's unfinished jobs are yet to create that hold one of these
    keys, as contacts of an image (their other fields unknown: a row matching one plans an
    update). Keys an existing contact holds already are left to it."""
    held_emails = {c["email_key"] for c in found if c["email_key"]}
    held_linkedins = {c["linkedin_key"] for c in found if c["linkedin_key"]}
    pending = []
    for email, linkedin in planned_creations_pending(account_id, emails=emails, linkedins=linkedins):
        if (email and email in held_emails) or (linkedin and linkedin in held_linkedins):
            continue
        held_emails.add(email)
        held_linkedins.add(linkedin)
        pending.append(
            {"id": uuid.uuid4(), "email_key": email, "linkedin_key": linkedin, "owner_id": None, "list_id": None, "vars": {}}
        )
    return pending
