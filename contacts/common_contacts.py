"""Contacts of the common form, validated by msgspec in about half of pydantic-core's time.

Nearly every bulk body is made of plain contacts: ASCII emails and URLs of the common form,
strings without a NUL. msgspec checks their types, lengths and literals in
C, and the few patterns and parsings run here (date-times and languages once per distinct
value, by the full checks' own rules); any contact of another form, or with a problem, and
`common_contacts` answers None: the body then goes to bulk_input's validation, the one path
that reports problems. What this accepts, that validation accepts too, into the same rows
(tests/contacts/test_common_contacts.py). Every value is decoded to its type, none skipped
over: a key given twice has both its values checked, as pydantic-core parses them all.
5,000 typical contacts are validated in ~14-17 ms, against ~38 by pydantic-core, and
packed into a payload's pieces in ~13 more (~20 from pydantic-core's rows).

The patterns are the common forms of the fields, shared with bulk_input's fast paths.
"""

import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from operator import attrgetter
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType
from msgspec.structs import astuple
from pydantic_core import SchemaValidator, ValidationError, core_schema

from .fields import CONTACT_FIELDS, SOURCES, VARS_MAX_KEY_LENGTH, VARS_MAX_KEYS, VARS_MAX_VALUE_LENGTH
from .languages import ISO_639_1
from .payload import StoredPiece, stored_pieces

_LABEL = r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"  # no hyphen at either end or doubled (so no xn--)
# A port of up to 4 digits, then a path, query or fragment without spaces. The host's last
# label starts with a letter: a numeric one would be read as an IPv4 address.
_URL_TAIL = r"(?::[0-9]{1,4})?(?:[/?#][A-Za-z0-9._~!$&'()*+,;=:@%/?#-]*)?$"
COMMON_URL = rf"^https?://(?:{_LABEL}\.)*[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*{_URL_TAIL}"
COMMON_LINKEDIN = rf"^https?://(?:{_LABEL}\.)*linkedin\.com{_URL_TAIL}"
# The dot-atom of Django's email validator, at DNS labels of 1 to 63 characters and a
# top-level domain of letters: a subset of what it accepts, in ASCII only.
_ATOM = r"[-!#$%&'*+/=?^_`{}|~0-9A-Za-z]+"
_DNS_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
COMMON_EMAIL_ASCII = rf"^{_ATOM}(?:\.{_ATOM})*@(?:{_DNS_LABEL}\.)+[A-Za-z]{{2,63}}$"
# A UTC date-time with every part in range (the day of the month is left to the parser,
# which refuses 02-30 as the full check does): no offset to apply, so both give one instant.
COMMON_UTC_DATETIME = (
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{1,6})?Z$"
)

# A NUL can only come in as an escape (JSON has no raw control characters): a body holding
# one is left to the full checks, which refuse it (PostgreSQL cannot store it). An escaped
# backslash before "u0000" is taken for one too: that body just goes the longer way. A
# lone surrogate escape msgspec refuses itself, as pydantic-core does; a pair is a
# character outside the BMP to both.
_ESCAPED_NUL = b"\\u0000"
_LANGUAGE_CODE = re.compile(r"[A-Za-z]{2}")  # ASCII only: the Kelvin sign (U+212A) lowercases to "k"

_FINITE = Meta(ge=-sys.float_info.max, le=sys.float_info.max)  # 1e400 parses as infinity
_VARS = Annotated[
    dict[
        Annotated[str, Meta(min_length=1, max_length=VARS_MAX_KEY_LENGTH)],
        Annotated[str, Meta(max_length=VARS_MAX_VALUE_LENGTH)] | int | Annotated[float, _FINITE] | bool | None,
    ],
    Meta(max_length=VARS_MAX_KEYS),
]
# The kinds that may be absent but not null are typed without None (bulk_input's _KINDS).
_TYPES = {
    "text": lambda f: Annotated[str, Meta(max_length=f.max_length)] | None,
    "owner": lambda f: Annotated[str, Meta(max_length=f.max_length)],
    "datetime": lambda f: str,
    "source": lambda f: Literal[SOURCES],
    "language": lambda f: str,
    "vars": lambda f: _VARS,
}
_TYPES["email"] = _TYPES["url"] = _TYPES["linkedin"] = _TYPES["text"]
_PATTERNS = {"email": COMMON_EMAIL_ASCII, "owner": COMMON_EMAIL_ASCII, "url": COMMON_URL, "linkedin": COMMON_LINKEDIN}


def collected_at_parsed(value: str) -> datetime:
    """An ISO 8601 date (midnight UTC) or date-time (UTC when it names no offset), in UTC;
    ValueError or OverflowError if it is neither (bulk_input's full check says why)."""
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    parsed = datetime.fromisoformat(value)
    # In UTC, as stored: an offset that pushes the instant out of years 1-9999 is refused
    # here, since such a value could be written but never read back.
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _language_stored(value: str) -> str:
    """An ISO 639-1 code in any case, lowercased, as the full check stores it."""
    if not _LANGUAGE_CODE.fullmatch(value) or value.lower() not in ISO_639_1:
        raise ValueError(value)
    return value.lower()

# A contact as sent (API names), and as stored (model attributes; absent fields left out).
_Contact = msgspec.defstruct(
    "_Contact",
    [(f.attr, _TYPES[f.kind](f) | UnsetType, UNSET) for f in CONTACT_FIELDS],
    rename={f.attr: f.api for f in CONTACT_FIELDS},
    forbid_unknown_fields=True,
)
_ATTRS = [f.attr for f in CONTACT_FIELDS]
_CONTACTS = msgspec.json.Decoder(list[_Contact])


def _all_of_form(pattern: str):
    """A test of whether a string is values of the form `pattern` (anchored) joined by
    newlines, which no common form holds: one run of pydantic-core's regex engine (Rust's,
    as its fast paths use) per field of a body, rather than one per value, and ten times
    quicker than Python's. (A value holding a newline is caught by counting them.)"""
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise ValueError(f"a common form is matched whole: {pattern!r} must be anchored at both ends")
    form = pattern[1:-1]
    validator = SchemaValidator(core_schema.str_schema(pattern=rf"^(?:{form})(?:\n(?:{form}))*$"))

    def test(joined: str) -> bool:
        try:
            validator.validate_python(joined)
        except ValidationError:
            return False
        return True

    return test


_CHECKED = [(attrgetter(f.attr), _all_of_form(_PATTERNS[f.kind])) for f in CONTACT_FIELDS if f.kind in _PATTERNS]
_email, _linkedin_url = attrgetter("email"), attrgetter("linkedin_url")


class CommonList(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """The body's list, its values typed (bulk_input.ListRef checks the rest)."""

    id: Annotated[str, Meta(max_length=64)] | UnsetType = UNSET
    name: Annotated[str, Meta(min_length=1, max_length=200)] | UnsetType = UNSET


class _Body(msgspec.Struct, forbid_unknown_fields=True):
    list: CommonList
    contacts: list[_Contact]


_BODY = msgspec.json.Decoder(_Body)


class CommonContacts:
    """Contacts validated here, read as bulk_input reads a validated body's contacts."""

    def __init__(self, contacts: list, *, dates: dict[str, datetime]):
        self._contacts = contacts
        self._dates = dates  # each distinct collectedAt, parsed

    def __len__(self) -> int:
        return len(self._contacts)

    def owner_refs(self, *, start: int = 0) -> list[tuple[int, str]]:
        """(index, owner email) of each contact naming an owner, the first at `start`."""
        return [(start + index, c.owner) for index, c in enumerate(self._contacts) if c.owner is not UNSET]

    def sources(self) -> set[str | None]:
        return {None if c.source is UNSET else c.source for c in self._contacts}

    def stored_pieces(self, size: int) -> list[StoredPiece]:
        """As bulk_input.contacts_stored_pieces, byte for byte."""
        if not self._contacts:
            return []
        columns = dict(zip(_ATTRS, zip(*map(astuple, self._contacts))))
        dates = columns["collected_at"]
        columns["collected_at"] = list(map(self._dates.get, dates, dates))
        return stored_pieces(columns, count=len(self._contacts), size=size)


def common_contacts(raw: bytes) -> CommonContacts | None:
    """The JSON array of contacts `raw`, if every contact is of the common form and valid."""
    contacts = _decoded(_CONTACTS, raw)
    parsed = _all_common(contacts) if contacts is not None else None
    return CommonContacts(contacts, dates=parsed) if parsed is not None else None


def common_body(raw: bytes) -> tuple[dict, CommonContacts] | None:
    """A bulk body's list (its values, for the caller to validate) and its contacts, if they
    are all of the common form and valid."""
    body = _decoded(_BODY, raw)
    parsed = _all_common(body.contacts) if body is not None else None
    if parsed is None:
        return None
    return msgspec.to_builtins(body.list), CommonContacts(body.contacts, dates=parsed)


def _decoded(decoder: msgspec.json.Decoder, raw: bytes):
    """`raw` decoded, or None: not of the decoder's type, or holding a NUL."""
    if b"\\" in raw and _ESCAPED_NUL in raw:  # no backslash, no escape: one quick scan
        return None
    try:
        return decoder.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None


def _all_common(contacts: list) -> dict[str, datetime] | None:
    """Whether each contact has a key and its checked values are of their common form (if
    not, None); parses the date-times and languages on the way, as the full checks do, and
    returns each distinct date-time's instant."""
    for email, linkedin_url in zip(map(_email, contacts), map(_linkedin_url, contacts)):
        if email.__class__ is not str and linkedin_url.__class__ is not str:
            return None  # no email nor LinkedIn URL: the full check names the problem
    for value_of, all_of_form in _CHECKED:
        values = [value for value in map(value_of, contacts) if value.__class__ is str]
        joined = "\n".join(values)
        if values and (joined.count("\n") != len(values) - 1 or not all_of_form(joined)):
            return None
    if _values_parsed(contacts, "language", _language_stored) is None:
        return None
    return _values_parsed(contacts, "collected_at", collected_at_parsed)


def _values_parsed(contacts: list, attr: str, parse: Callable[[str], object]) -> dict | None:
    """The field's distinct values parsed (None if one does not parse); text that parses to
    other text (a language in capitals) becomes it, as the full check makes it, so that the
    stored rows are the same."""
    value_of = attrgetter(attr)
    found, rewritten = {}, {}
    for value in {value for value in map(value_of, contacts) if value.__class__ is str}:
        try:
            found[value] = parsed = parse(value)
        except (ValueError, OverflowError):
            return None
        if parsed.__class__ is str and parsed != value:
            rewritten[value] = parsed
    if rewritten:
        for contact in contacts:
            value = value_of(contact)
            if value.__class__ is str and value in rewritten:
                setattr(contact, attr, rewritten[value])
    return found
