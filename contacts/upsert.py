"""Sequential upsert semantics, applied in memory to the contacts one chunk can touch.

Processing the rows one by one in array order against this in-memory image gives exactly
the result the contract asks for; the service then writes the image in a few queries.
A contact here is a plain dict of model attribute names to values (cheaper than model
instances by an order of magnitude at 10,000 rows); its `vars` may still be the JSON text
the database returned, decoded only if a row changes them. A row is a dict of the
attributes it sets, plus the `email_key` and `linkedin_key` of the email and LinkedIn URL
it has, computed once: where the body is validated (staged_text.py), or when the rows of a
job stored before are loaded (`row_with_keys`).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from pydantic_core import from_json

from .fields import DEFAULT_LANGUAGE, DEFAULT_SOURCE
from .ids import contact_id
from .normalize import email_key, linkedin_key

# A contact with every attribute but the ones _new_contact sets: plain text fields empty.
_BLANK = {
    **dict.fromkeys(
        (
            "email", "email_key", "linkedin_url", "linkedin_key", "first_name", "last_name",
            "company_industry", "company_name", "company_size", "company_description",
            "company_website", "city", "country", "zipcode", "mobile_phone", "phone",
            "picture_url", "job_title",
        )
    ),
    "language": DEFAULT_LANGUAGE,
}


@dataclass(frozen=True)
class UpsertOptions:
    account_id: int
    list_id: uuid.UUID | None
    caller_id: int
    move_to_list: bool
    replace_owner: bool
    collected_at_default: datetime
    default_source: str = DEFAULT_SOURCE


@dataclass
class RowOutcome:
    created: bool = False
    contact: dict | None = None
    problem: dict | None = None  # {"field", "message"} when the row could not be applied


@dataclass
class ContactImage:
    """The contacts a chunk may touch, indexed by the keys the database keeps unique."""

    by_email: dict[str, dict] = field(default_factory=dict)
    by_linkedin: dict[str, dict] = field(default_factory=dict)
    original_keys: dict[uuid.UUID, tuple[str | None, str | None]] = field(default_factory=dict)

    @classmethod
    def of(cls, contacts) -> "ContactImage":
        image = cls()
        for contact in contacts:
            image.original_keys[contact["id"]] = (contact["email_key"], contact["linkedin_key"])
            image._index(contact)
        return image

    def _index(self, contact: dict) -> None:
        if contact["email_key"]:
            self.by_email[contact["email_key"]] = contact
        if contact["linkedin_key"]:
            self.by_linkedin[contact["linkedin_key"]] = contact

    def _unindex(self, contact: dict) -> None:
        if contact["email_key"] and self.by_email.get(contact["email_key"]) is contact:
            del self.by_email[contact["email_key"]]
        if contact["linkedin_key"] and self.by_linkedin.get(contact["linkedin_key"]) is contact:
            del self.by_linkedin[contact["linkedin_key"]]

    def match(self, row: dict) -> dict | None:
        """The contract's matching: by email first, then by LinkedIn URL."""
        key = row.get("email_key")
        if key and key in self.by_email:
            return self.by_email[key]
        key = row.get("linkedin_key")
        return self.by_linkedin.get(key) if key else None

    def apply(self, row: dict, options: UpsertOptions) -> RowOutcome:
        """Apply one validated row, as processing the rows one by one would."""
        contact = self.match(row)
        if contact is None:
            contact = _new_contact(row, options)
            self._index(contact)
            return RowOutcome(created=True, contact=contact)
        problem = self._key_conflict(row, contact)
        if problem:
            return RowOutcome(problem=problem)
        self._unindex(contact)
        _update_contact(contact, row, options)
        self._index(contact)
        return RowOutcome(contact=contact)

    def _key_conflict(self, row: dict, contact: dict) -> dict | None:
        # Matched by email, the row's LinkedIn URL may already be another contact's.
        if row.get("linkedin_key"):
            holder = self.by_linkedin.get(row["linkedin_key"])
            if holder is not None and holder is not contact:
                return {
                    "field": "linkedinUrl",
                    "message": "belongs to another contact of the account (matched by email)",
                }
        return None

    def moved_keys(self, contacts) -> list[dict]:
        """Existing contacts whose email or LinkedIn key changed since the image was loaded."""
        return [
            c for c in contacts
            if c["id"] in self.original_keys
            and self.original_keys[c["id"]] != (c["email_key"], c["linkedin_key"])
        ]


def _new_contact(row: dict, options: UpsertOptions) -> dict:
    contact = dict(_BLANK)
    contact.update(
        vars={},
        id=contact_id(),
        account_id=options.account_id,
        list_id=options.list_id,
        owner_id=options.caller_id,
        collected_at=options.collected_at_default,
        source=options.default_source,
    )
    _copy_fields(contact, row)
    return contact


def _update_contact(contact: dict, row: dict, options: UpsertOptions) -> None:
    owner_id = contact["owner_id"]
    _copy_fields(contact, row)
    if options.move_to_list:
        contact["list_id"] = options.list_id
    # Without an `owner` field there is nothing to replace the owner by: the caller is the
    # default owner of created contacts only, like every other default.
    if not options.replace_owner:
        contact["owner_id"] = owner_id


def _copy_fields(contact: dict, row: dict) -> None:
    """Copy the row's fields (and the keys of its email and LinkedIn URL, present only with
    them) onto the contact; `vars` are merged key by key."""
    earlier_vars = contact["vars"]
    contact.update(row)
    if "vars" in row:
        merged = dict(from_json(earlier_vars) if isinstance(earlier_vars, str) else earlier_vars)
        for key, value in row["vars"].items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        contact["vars"] = merged


def row_with_keys(row: dict) -> dict:
    """The row, given the keys it matches by (for the fields it has), computed once."""
    if "email" in row:
        row["email_key"] = email_key(row["email"])
    if "linkedin_url" in row:
        row["linkedin_key"] = linkedin_key(row["linkedin_url"])
    return row


def row_keys(rows) -> tuple[set[str], set[str]]:
    """The email and LinkedIn keys that a set of rows (with keys) can match."""
    emails = {key for row in rows if (key := row.get("email_key"))}
    linkedins = {key for row in rows if (key := row.get("linkedin_key"))}
    return emails, linkedins
