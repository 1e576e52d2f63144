"""Sequential upsert semantics, applied in memory to the contacts one chunk can touch.

Processing the rows one by one in array order against this in-memory image gives exactly
the result the contract asks for; the service then writes the image in a few queries.
A contact here is a plain dict of model attribute names to values (cheaper than model
instances by an order of magnitude at 10,000 rows). Rows carry their `email_key` and
`linkedin_key`, computed once when the job's rows are loaded (`row_with_keys`).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from .fields import DEFAULT_LANGUAGE, DEFAULT_SOURCE
from .normalize import email_key, linkedin_key

# Row attributes that are copied onto the contact as they are.
_PLAIN = frozenset(
    {
        "email", "linkedin_url", "source", "language", "first_name", "last_name",
        "company_industry", "company_name", "company_size", "company_description",
        "company_website", "city", "country", "zipcode", "mobile_phone", "phone",
        "picture_url", "job_title", "collected_at",
    }
)


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
    contact = {
        "id": uuid.uuid4(),
        "account_id": options.account_id,
        "list_id": options.list_id,
        "owner_id": row.get("owner_id", options.caller_id),
        "collected_at": options.collected_at_default,
        "source": options.default_source,
        "language": DEFAULT_LANGUAGE,
        "vars": {},
        "email": None,
        "email_key": None,
        "linkedin_url": None,
        "linkedin_key": None,
    }
    _copy_fields(contact, row)
    return contact


def _update_contact(contact: dict, row: dict, options: UpsertOptions) -> None:
    _copy_fields(contact, row)
    if options.move_to_list:
        contact["list_id"] = options.list_id
    # Without an `owner` field there is nothing to replace the owner by: the caller is the
    # default owner of created contacts only, like every other default.
    if options.replace_owner and "owner_id" in row:
        contact["owner_id"] = row["owner_id"]


def _copy_fields(contact: dict, row: dict) -> None:
    for attr, value in row.items():
        if attr in _PLAIN:
            contact[attr] = value
    if "vars" in row:
        merged = dict(contact.get("vars") or {})
        for key, value in row["vars"].items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        contact["vars"] = merged
    if "email" in row:
        contact["email_key"] = row["email_key"]
    if "linkedin_url" in row:
        contact["linkedin_key"] = row["linkedin_key"]


def row_with_keys(row: dict) -> dict:
    """A stored row with the keys it matches by, computed once."""
    return {**row, "email_key": email_key(row.get("email")), "linkedin_key": linkedin_key(row.get("linkedin_url"))}


def row_keys(rows) -> tuple[set[str], set[str]]:
    """The email and LinkedIn keys that a set of rows (with keys) can match."""
    emails = {row["email_key"] for row in rows if row["email_key"]}
    linkedins = {row["linkedin_key"] for row in rows if row["linkedin_key"]}
    return emails, linkedins
