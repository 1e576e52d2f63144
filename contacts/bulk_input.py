"""The bulk request's body, validated by pydantic (10,000 rows in a fraction of DRF's time).

`BulkRequest` is both the validator and the OpenAPI schema of the body. Problems come out
as `{"index", "field", "message"}` entries; what needs the database (the list, the owners)
is checked by the service.
"""

import math
import re
from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired, Protocol, TypedDict

from msgspec import UNSET
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError, Url, core_schema

from .common_contacts import (
    COMMON_EMAIL_ASCII,
    COMMON_LINKEDIN,
    COMMON_URL,
    COMMON_UTC_DATETIME,
    CommonContacts,
    collected_at_parsed,
    common_body,
)
from .fields import (
    CONTACT_FIELDS,
    SOURCES,
    VARS_MAX_KEY_LENGTH,
    VARS_MAX_KEYS,
    VARS_MAX_VALUE_LENGTH,
)
from .languages import ISO_639_1
from .normalize import linkedin_key
from .payload import StoredPiece, stored_pieces

MAX_CONTACTS = 10_000
MAX_REPORTED_ERRORS = 1000
NOT_NULL = "may not be null"
_LANGUAGE_CODE = r"^[A-Za-z]{2}$"  # ASCII only: the Kelvin sign (U+212A) lowercases to "k"

_email_validator = EmailValidator()
# Addresses of the common form (a dot-atom local part at a host name) in one precompiled
# match, built from Django's own patterns: whatever it accepts, Django's validator accepts
# too. Anything else goes to Django's validator itself.
_COMMON_EMAIL = re.compile(
    r"[-!#$%&'*+/=?^_`{}|~0-9A-Z]+(?:\.[-!#$%&'*+/=?^_`{}|~0-9A-Z]+)*@"
    + EmailValidator.hostname_re + EmailValidator.domain_re + EmailValidator.tld_no_fqdn_re + r"\Z",
    re.IGNORECASE,
)


def _problem(message: str) -> PydanticCustomError:
    return PydanticCustomError("invalid", message)


def _storable(text: str) -> bool:
    """Whether PostgreSQL can hold the text: no NUL, no lone surrogate (a JSON escape can carry one)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _valid_email(value: str) -> str:
    if len(value) <= 320 and _COMMON_EMAIL.match(value):
        return value
    try:
        _email_validator(value)
    except DjangoValidationError:
        raise _problem("must be a valid email address") from None
    return value


_WHITESPACE = re.compile(r"\s")


def http_url(value: str) -> Url | None:
    """The parsed http(s) URL, or None if `value` is not one (pydantic-core's parser:
    ~1 µs where Django's URLValidator takes ~20)."""
    try:
        url = Url(value)
    except ValueError:
        return None
    if url.scheme not in ("http", "https") or not url.host or _WHITESPACE.search(value):
        return None
    return url


def _url(value: str) -> Url:
    url = http_url(value)
    if url is None:
        raise _problem("must be a valid http(s) URL")
    return url


def _valid_url(value: str) -> str:
    _url(value)
    return value


# The LinkedIn key is in a unique index, whose entries PostgreSQL caps at 2,704 bytes: a
# URL of 2,048 characters outside ASCII could hold three times that.
LINKEDIN_KEY_MAX_BYTES = 2048


def _valid_linkedin(value: str) -> str:
    host = _url(value).host.lower()
    if host != "linkedin.com" and not host.endswith(".linkedin.com"):
        raise _problem("must be a linkedin.com URL")
    if len(linkedin_key(value).encode()) > LINKEDIN_KEY_MAX_BYTES:
        raise _problem(f"must be at most {LINKEDIN_KEY_MAX_BYTES} bytes in UTF-8")
    return value


def _parse_collected_at(value: Any) -> datetime:
    """An ISO 8601 date (midnight UTC) or date-time (UTC when it names no offset)."""
    if value is None:
        raise _problem(NOT_NULL)
    if not isinstance(value, str):
        raise _problem("must be an ISO 8601 date or date-time string")
    try:
        return collected_at_parsed(value)
    except (ValueError, OverflowError):
        raise _problem("must be an ISO 8601 date or date-time string") from None


def _valid_vars(value: dict) -> dict:
    if len(value) > VARS_MAX_KEYS:
        raise _problem(f"must have at most {VARS_MAX_KEYS} keys")
    for key, item in value.items():
        if not key or len(key) > VARS_MAX_KEY_LENGTH or not _storable(key):
            raise _problem(
                f"keys must be 1 to {VARS_MAX_KEY_LENGTH} characters of valid Unicode without NUL"
            )
        if item is not None and type(item) not in (str, int, float, bool):
            raise _problem(f"value of {key!r} must be a string, number, boolean or null")
        if isinstance(item, float) and not math.isfinite(item):
            # 1e400 parses as infinity, which JSON (and PostgreSQL's jsonb) cannot hold.
            raise _problem(f"value of {key!r} must be a finite number")
        if isinstance(item, str) and (len(item) > VARS_MAX_VALUE_LENGTH or not _storable(item)):
            raise _problem(
                f"value of {key!r} must be at most {VARS_MAX_VALUE_LENGTH} characters "
                "of valid Unicode without NUL"
            )
    return value


# Length and NUL are checked by pydantic-core itself: no Python call per plain text field.
_NO_NUL = r"^[^\x00]*$"


# Fast paths. The full checks of emails, URLs and `vars` are Python calls, and they were
# half of validating a 10,000-contact body. A value of the common form is accepted by a
# schema that pydantic-core checks itself (its patterns run in Rust's regex engine); any
# other value goes through the full check, which alone reports problems. Each fast schema
# accepts only values its full check accepts, unchanged. The common forms are those of
# common_contacts.py, which validates a body of nothing but common contacts faster still.
_FAST, _CHECKED = "fast-path", "checked"  # union labels, dropped from error locations


class _FastPath:
    """Validate by `schema` first, and by the annotated type (the full check) if it fails."""

    def __init__(self, schema: core_schema.CoreSchema):
        self.schema = schema

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.union_schema(
            [(self.schema, _FAST), (handler(source), _CHECKED)], mode="left_to_right"
        )

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: Any) -> Any:
        return handler(schema["choices"][1][0])  # the full check's: what the contract says


def _fast_text(pattern: str, max_length: int) -> _FastPath:
    return _FastPath(core_schema.str_schema(strict=True, pattern=pattern, max_length=max_length))


_FAST_DATETIME = _FastPath(
    core_schema.chain_schema(
        [core_schema.str_schema(strict=True, pattern=COMMON_UTC_DATETIME), core_schema.datetime_schema()]
    )
)
_VARS_VALUE = core_schema.union_schema(
    [
        core_schema.str_schema(strict=True, max_length=VARS_MAX_VALUE_LENGTH, pattern=_NO_NUL),
        core_schema.int_schema(strict=True),
        core_schema.bool_schema(strict=True),
        core_schema.float_schema(strict=True, allow_inf_nan=False),
    ],
    mode="left_to_right",
)
_FAST_VARS = _FastPath(
    core_schema.dict_schema(
        keys_schema=core_schema.str_schema(
            strict=True, min_length=1, max_length=VARS_MAX_KEY_LENGTH, pattern=_NO_NUL
        ),
        values_schema=core_schema.nullable_schema(_VARS_VALUE),
        max_length=VARS_MAX_KEYS,
        strict=True,
    )
)


class _Language:
    """An ISO 639-1 code in any case, lowercased: checked by pydantic-core, no Python call."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        # The pattern is matched before the lowering, the codes looked up after it.
        return core_schema.chain_schema(
            [
                core_schema.str_schema(strict=True, pattern=_LANGUAGE_CODE, to_lower=True),
                core_schema.literal_schema(sorted(ISO_639_1)),
            ]
        )

    def __get_pydantic_json_schema__(self, schema: core_schema.CoreSchema, handler: Any) -> Any:
        # The codes as stored; the API accepts them in any case.
        return {"type": "string", "enum": sorted(ISO_639_1)}


def _text(max_length: int, check=None, fast_pattern: str | None = None) -> Any:
    text = Annotated[StrictStr, Field(max_length=max_length, pattern=_NO_NUL)]
    if check is not None:
        text = Annotated[text, AfterValidator(check)]
    if fast_pattern is not None:
        text = Annotated[text, _fast_text(fast_pattern, max_length)]
    return text | None


_KINDS = {
    "text": lambda f: _text(f.max_length),
    "email": lambda f: _text(f.max_length, _valid_email, COMMON_EMAIL_ASCII),
    "url": lambda f: _text(f.max_length, _valid_url, COMMON_URL),
    "linkedin": lambda f: _text(f.max_length, _valid_linkedin, COMMON_LINKEDIN),
    # The kinds below may be absent (the default applies) but not null: null fails their
    # type (in pydantic-core, no Python call per value), and _problem_entry says why.
    "owner": lambda f: Annotated[
        StrictStr,
        Field(max_length=f.max_length),
        AfterValidator(_valid_email),
        _fast_text(COMMON_EMAIL_ASCII, f.max_length),
    ],
    "datetime": lambda f: Annotated[datetime, BeforeValidator(_parse_collected_at), _FAST_DATETIME],
    "source": lambda f: Literal[SOURCES],
    "language": lambda f: Annotated[str, _Language()],
    "vars": lambda f: Annotated[dict[StrictStr, Any], AfterValidator(_valid_vars), _FAST_VARS],
}

# The fields that may not be null (the second group of _KINDS).
_NOT_NULL_FIELDS = frozenset(
    f.api for f in CONTACT_FIELDS if f.kind in ("owner", "datetime", "source", "language", "vars")
)


# A validated contact is a dict of the model attributes its fields set, read by their API
# names; the fields it leaves out stay out. pydantic-core builds these rows itself: no model
# instance per contact, nothing to dump afterwards.
ContactInput = TypedDict(
    "ContactInput",
    {f.attr: NotRequired[Annotated[_KINDS[f.kind](f), Field(alias=f.api)]] for f in CONTACT_FIELDS},
)
ContactInput.__doc__ = "A contact to create or update; each needs an email or a linkedinUrl."
ContactInput.__pydantic_config__ = ConfigDict(extra="forbid")


def _has_a_key(contact: dict) -> dict:
    if contact.get("email") is None and contact.get("linkedin_url") is None:
        raise _problem("each contact needs an email or a linkedinUrl")
    return contact


class ListRef(BaseModel):
    """The list of the request: an existing list by id, or a list found or created by name."""

    model_config = ConfigDict(extra="forbid")
    id: StrictStr | None = Field(default=None, max_length=64)
    name: _text(200) = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_of(self):
        if (self.id is None) == (self.name is None):
            raise _problem("must have exactly one of id or name")
        return self


# The contacts array's items: one definition for the whole body and for a helper process
# validating part of it (contacts/validation_helper.py).
ContactItems = list[Annotated[ContactInput, AfterValidator(_has_a_key)]]


class BulkRequest(BaseModel):
    """The body of POST /api/v1/contacts/bulk.

    The service reads a validated body through `list`, `total`, `owner_refs`, `sources` and
    `stored_pieces`, which a body validated in halves (validation_helper.py) gives too."""

    model_config = ConfigDict(extra="forbid")
    list: ListRef
    contacts: Annotated[ContactItems, Field(min_length=1, max_length=MAX_CONTACTS)]

    @property
    def total(self) -> int:
        return len(self.contacts)

    def owner_refs(self) -> list[tuple[int, str]]:
        """(index, owner email) of each contact naming an owner."""
        return contacts_owner_refs(self.contacts)

    def sources(self) -> set[str | None]:
        """The sources the contacts give, None for a contact giving none."""
        return contacts_sources(self.contacts)

    def stored_pieces(self, size: int) -> list[StoredPiece]:
        """The contacts as a payload's pieces of `size` rows (payload.stored_pieces)."""
        return contacts_stored_pieces(self.contacts, size=size)


class BulkBody(Protocol):
    """A validated bulk body as the service reads it: a BulkRequest, a CommonBulkRequest, or
    a body validated in halves (validation_helper.py)."""

    list: ListRef
    total: int

    def owner_refs(self) -> list[tuple[int, str]]: ...

    def sources(self) -> set[str | None]: ...

    def stored_pieces(self, size: int) -> list[StoredPiece]: ...


class CommonBulkRequest:
    """A body whose contacts are all of the common form (common_contacts.py), read by the
    service as a BulkRequest is."""

    def __init__(self, list_ref: ListRef, contacts: CommonContacts):
        self.list = list_ref
        self.total = len(contacts)
        self._contacts = contacts

    def owner_refs(self) -> list[tuple[int, str]]:
        return self._contacts.owner_refs()

    def sources(self) -> set[str | None]:
        return self._contacts.sources()

    def stored_pieces(self, size: int) -> list[StoredPiece]:
        return self._contacts.stored_pieces(size)


def common_bulk_request(raw: bytes) -> CommonBulkRequest | None:
    """The raw body as a CommonBulkRequest, if it is valid and its contacts all common."""
    found = common_body(raw)
    if found is None or not 1 <= len(found[1]) <= MAX_CONTACTS:
        return None
    try:
        list_ref = ListRef.model_validate(found[0])
    except ValidationError:
        return None
    return CommonBulkRequest(list_ref, found[1])


def bulk_request_valid(raw: bytes) -> BulkBody | None:
    """The raw body validated as bulk_request_parse_json does, or None if it has problems
    (left unnamed)."""
    try:
        return _json_validated(raw)
    except ValidationError:
        return None


def _json_validated(raw: bytes) -> BulkBody:
    """The raw body validated by common_contacts.py if its contacts are all of the common
    form, else by pydantic-core, which parses and validates in one pass (a third faster than
    json.loads then validation); ValidationError if it has problems."""
    common = common_bulk_request(raw)
    return BulkRequest.model_validate_json(raw) if common is None else common


def contacts_owner_refs(contacts: list[dict], *, start: int = 0) -> list[tuple[int, str]]:
    """(index, owner email) of each of the contacts naming an owner, the first at `start`."""
    return [(start + index, contact["owner"]) for index, contact in enumerate(contacts) if "owner" in contact]


def contacts_sources(contacts: list[dict]) -> set[str | None]:
    """The sources the contacts give, None for a contact giving none."""
    return {contact.get("source") for contact in contacts}


class BodyProblems(Exception):
    """The body is invalid; `errors` are the contract's `{"index", "field", "message"}`."""

    def __init__(self, errors: list[dict]):
        super().__init__(f"{len(errors)} problems")
        self.errors = errors


def bulk_request_parse(data: Any) -> BulkRequest:
    """Validate a parsed JSON body; raise BodyProblems naming every problem."""
    if not isinstance(data, dict):
        raise BodyProblems([{"field": "body", "message": "must be a JSON object"}])
    try:
        return BulkRequest.model_validate(data)
    except ValidationError as exc:
        raise BodyProblems(_problems(exc)) from None


def bulk_request_parse_json(raw: bytes) -> BulkBody:
    """Validate the raw body (_json_validated); raise BodyProblems naming every problem."""
    try:
        return _json_validated(raw)
    except ValidationError as exc:
        raise BodyProblems(_problems(exc)) from None


def contacts_stored_pieces(contacts: list[dict], *, size: int) -> list[StoredPiece]:
    """Validated contacts as a payload's pieces of `size` rows (payload.stored_pieces)."""
    columns = {f.attr: [contact.get(f.attr, UNSET) for contact in contacts] for f in CONTACT_FIELDS}
    return stored_pieces(columns, count=len(contacts), size=size)


def _problems(exc: ValidationError) -> list[dict]:
    problems = []
    for error in exc.errors(include_url=False, include_context=False):
        problem = _problem_entry(error["loc"], error["type"], error["msg"], error["input"])
        if problem is not None:
            problems.append(problem)
    if len(problems) > MAX_REPORTED_ERRORS:
        extra = len(problems) - MAX_REPORTED_ERRORS
        problems = problems[:MAX_REPORTED_ERRORS]
        problems.append({"field": "contacts", "message": f"{extra} more problems not listed"})
    return problems


def _problem_entry(loc: tuple, kind: str, message: str, value: Any) -> dict | None:
    if len(loc) > 3 and loc[0] == "contacts":  # a field with a fast path: its full check speaks
        if loc[3] == _FAST:
            return None
        if loc[3] == _CHECKED:
            loc = loc[:3] + loc[4:]
    message = _MESSAGES.get(kind, message)
    if kind == "json_invalid":
        message = "is not valid JSON: " + message.split(": ", 1)[-1]
    if len(loc) >= 2 and loc[0] == "contacts" and isinstance(loc[1], int):
        if len(loc) > 2:
            field = str(loc[2])
            if len(loc) == 3 and value is None and field in _NOT_NULL_FIELDS:
                message = NOT_NULL
            elif field == "language" and kind in ("string_pattern_mismatch", "literal_error"):
                message = "must be a two-letter ISO 639-1 code"
        else:  # the row itself: missing both keys (our check), or not a valid object
            field = "email" if kind == "invalid" else "contacts"
            if kind == "dict_type":
                message = _MESSAGES["model_type"]
        if field == "vars" and len(loc) > 3:
            field = f"vars.{loc[3]}"
        return {"index": loc[1], "field": field, "message": message}
    return {"field": ".".join(map(str, loc)) if loc else "body", "message": message}


_MESSAGES = {
    "string_pattern_mismatch": "must not contain NUL characters",
    "extra_forbidden": "is not a known field",
    "missing": "is required",
    "model_type": "must be a JSON object",
}
