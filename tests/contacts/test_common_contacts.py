"""A body of contacts of the common form, validated by msgspec (contacts/common_contacts.py),
gives the service exactly what the full validation gives; a body with anything else is
left to the full validation, whose verdict and errors it keeps."""

import json
from datetime import UTC, date, timedelta, timezone

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from contacts.bulk_input import (
    MAX_CONTACTS,
    BodyProblems,
    BulkRequest,
    CommonBulkRequest,
    bulk_request_parse_json,
    common_bulk_request,
)
from contacts.common_contacts import COMMON_EMAIL_ASCII, COMMON_LINKEDIN, COMMON_URL, COMMON_UTC_DATETIME
from contacts.fields import CONTACT_FIELDS, SOURCES, VARS_MAX_KEYS
from tests.contacts.test_validation_fast_paths import NEAR_MISSES


def _full(raw: bytes) -> BulkRequest | None:
    try:
        return BulkRequest.model_validate_json(raw)
    except ValidationError:
        return None


def _agrees(raw: bytes) -> bool:
    """Whether the common path took the body; if it did, it gives what the full one gives."""
    common = common_bulk_request(raw)
    if common is None:
        return False
    full = _full(raw)
    assert full is not None, raw[:300]
    assert common.list == full.list
    assert common.total == full.total
    assert common.owner_refs() == full.owner_refs()
    assert common.sources() == full.sources()
    for size in (1, 3, 2500):
        assert common.stored_pieces(size) == full.stored_pieces(size)  # the payload, byte for byte
    return True


def _body(*contacts, list_ref=None) -> bytes:
    return json.dumps({"list": list_ref or {"name": "Imports"}, "contacts": list(contacts)}).encode()


def _typical(i: int) -> dict:
    return {
        "email": f"person{i}@example.com", "firstName": f"First{i}", "lastName": None,
        "companyName": f"Company {i % 7}", "companyWebsite": f"https://company{i % 7}.example.com",
        "pictureUrl": f"https://pictures.example.com/{i}.png?s=80", "language": "fr", "source": SOURCES[i % 4],
        "linkedinUrl": f"https://www.linkedin.com/in/person-{i}/", "owner": f"Owner{i % 3}@Example.com",
        "collectedAt": ["2026-11-01T10:00:00Z", "2026-11-01T10:00:00.5Z", "2024-02-29T23:59:59.000001Z"][i % 3],
        "vars": {"rank": i, "ratio": i / 7, "big": 10**15, "flag": i % 2 == 0, "gone": None, "tag": "v2"},
    }


def test_a_body_of_common_contacts_takes_the_common_path():
    raw = _body(*(_typical(i) for i in range(50)), {"linkedinUrl": "https://linkedin.com/in/x"}, {"email": "a@b.co"})
    assert isinstance(bulk_request_parse_json(raw), CommonBulkRequest)
    assert _agrees(raw)


def _with(**fields) -> bytes:
    return _body({"email": "a@b.co", **fields})


# Each is taken by the common path only if the full validation agrees (most are left to it).
EDGES = {
    "duplicate field": b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co","email":"c@d.co"}]}',
    "duplicate field, second invalid": b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co","email":"c d"}]}',
    "duplicate var": b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co","vars":{"a":1,"a":"x"}}]}',
    "duplicate contacts": b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co"}],"contacts":[{"email":"c@d.co"}]}',
    "duplicate list": b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co"}],"list":{"id":"x"}}',
    # A value given first and shadowed by a second is parsed all the same by pydantic-core.
    "shadowed list, invalid UTF-8": b'{"list":"\xff","list":{"name":"L"},"contacts":[{"email":"a@b.co"}]}',
    "shadowed list, a surrogate in UTF-8": b'{"list":"\xed\xa0\x80","list":{"name":"L"},"contacts":[{"email":"a@b.co"}]}',
    "shadowed list, invalid UTF-8 in a key": b'{"list":{"\xff":1},"list":{"name":"L"},"contacts":[{"email":"a@b.co"}]}',
    "shadowed list, a number past 4,300 digits": (
        b'{"list":1' + b"0" * 4300 + b',"list":{"name":"L"},"contacts":[{"email":"a@b.co"}]}'
    ),
    "shadowed list, nested past the parser's depth": (
        b'{"list":' + b"[" * 201 + b"]" * 201 + b',"list":{"name":"L"},"contacts":[{"email":"a@b.co"}]}'
    ),
    "shadowed name, nested to the parser's depth in the body": (
        b'{"list":{"name":' + b"[" * 200 + b"]" * 200 + b',"name":"L"},"contacts":[{"email":"a@b.co"}]}'
    ),
    "shadowed contacts, invalid UTF-8": b'{"list":{"name":"L"},"contacts":[{"email":"\xff"}],"contacts":[{"email":"a@b.co"}]}',
    "list with a null id": _body({"email": "a@b.co"}, list_ref={"id": None, "name": "L"}),
    "vars keys over the limit by a duplicate": (
        b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co","vars":{'
        + b",".join(b'"k%d":1' % i for i in range(VARS_MAX_KEYS)) + b',"k0":2}}]}'
    ),
    "byte order mark": b"\xef\xbb\xbf" + _with(),
    "trailing comma": b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co"},]}',
    "trailing data": _with() + b" x",
    "whitespace": b' \n{ "list" : { "name" : "L" } ,\t"contacts" : [ { "email" : "a@b.co" } ] }\r\n',
    "NaN": _with()[:-3] + b',"vars":{"a":NaN}}]}',
    "Infinity": _with()[:-3] + b',"vars":{"a":Infinity}}]}',
    "1e400": _with()[:-3] + b',"vars":{"a":1e400}}]}',
    "-1e400": _with()[:-3] + b',"vars":{"a":-1e400}}]}',
    "1e-400": _with()[:-3] + b',"vars":{"a":1e-400}}]}',
    "numbers": _with()[:-3] + b',"vars":{"a":-0.0,"b":1E5,"c":1.0,"d":10,"e":1.5e-7,"f":0.1}}]}',
    "2**63": _with(vars={"a": 2**63}),
    "-2**63-1": _with(vars={"a": -(2**63) - 1}),
    "10**30": _with(vars={"a": 10**30}),
    "NUL in a text": _with(firstName="a\x00b"),
    "NUL in a var's key": _with(vars={"a\x00": 1}),
    "NUL in a var": _with(vars={"a": "\x00"}),
    "escaped backslash before u0000": _with(firstName="\\u0000"),
    "raw NUL": _with()[:-4] + b'\x00"}]}',
    "raw control character": b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co","firstName":"a\tb"}]}',
    "surrogate pair": _with(firstName="\U0001f600"),
    "lone surrogate": b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co","firstName":"\\ud800"}]}',
    "invalid UTF-8": b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co","firstName":"\xff"}]}',
    "UTF-8 of a surrogate": b'{"list":{"name":"L"},"contacts":[{"email":"a@b.co","firstName":"\xed\xa0\x80"}]}',
    "non-ASCII text": json.dumps({"list": {"name": "Liste é"}, "contacts": [{"email": "a@b.co", "city": "Zürich"}]},
                                 ensure_ascii=False).encode(),
    "text at its length in characters": _with(firstName="é" * 255),
    "text past its length": _with(firstName="é" * 256),
    "upper-case language": _with(language="FR"),
    "mixed-case language": _with(language="fR"),
    "Kelvin sign in a language": _with(language="\u212ak"),
    "unknown language": _with(language="xx"),
    "null language": _with(language=None),
    "date-time with an offset": _with(collectedAt="2026-11-01T10:00:00+00:00"),
    "date-time with another offset": _with(collectedAt="2026-11-01T10:00:00.25-05:30"),
    "date-time without an offset": _with(collectedAt="2026-11-01T10:00:00"),
    "date-time with a space": _with(collectedAt="2026-11-01 10:00:00"),
    "date in the basic format": _with(collectedAt="20261101"),
    "date-time pushed out of range by its offset": _with(collectedAt="0001-01-01T00:00:00+01:00"),
    "date": _with(collectedAt="2026-11-01"),
    "30 February": _with(collectedAt="2026-02-30T10:00:00Z"),
    "seven decimals": _with(collectedAt="2026-11-01T10:00:00.1234567Z"),
    "null date-time": _with(collectedAt=None),
    "null owner": _with(owner=None),
    "null source": _with(source=None),
    "source in capitals": _with(source="API"),
    "number for a text": _with(firstName=5),
    "null email, a LinkedIn URL": _body({"email": None, "linkedinUrl": "https://www.linkedin.com/in/x"}),
    "no key": _body({"firstName": "x"}),
    "null keys": _body({"email": None, "linkedinUrl": None}),
    "email and a newline": _with(email="a@b.co\n"),
    "two emails in one": _with(email="a@b.co\nc@d.co"),
    "two URLs in one": _with(companyWebsite="https://a.co\nhttps://b.co"),
    "unknown field": _with(nickname="x"),
    "contact not an object": _body("a@b.co"),
    "empty var key": _with(vars={"": 1}),
    "nested var": _with(vars={"a": {"b": 1}}),
    "deep nesting": _with()[:-3] + b',"vars":{"a":' + b"[" * 5000 + b"]" * 5000 + b"}}]}",
    "list by id": _body({"email": "a@b.co"}, list_ref={"id": "abc"}),
    "list by id and name": _body({"email": "a@b.co"}, list_ref={"id": "abc", "name": "L"}),
    "list with an empty name": _body({"email": "a@b.co"}, list_ref={"name": ""}),
    "no contacts": _body(),
    "too many contacts": _body(*({"email": f"a{i}@b.co"} for i in range(MAX_CONTACTS + 1))),
    "most contacts": _body(*({"email": f"a{i}@b.co"} for i in range(MAX_CONTACTS))),
    "not an object": b"[]",
    "not JSON": b"{",
}


@pytest.mark.parametrize("raw", EDGES.values(), ids=EDGES.keys())
def test_an_edge_of_the_common_form_gets_the_full_validations_verdict(raw):
    _agrees(raw)


COMMON_BEYOND_THE_PLAIN = [
    "numbers", "2**63", "non-ASCII text", "text at its length in characters", "most contacts", "duplicate list",
    "surrogate pair",
    "upper-case language", "mixed-case language", "date-time with an offset", "date-time with another offset",
    "date-time without an offset", "date-time with a space", "date", "date in the basic format", "seven decimals",
]


@pytest.mark.parametrize("name", COMMON_BEYOND_THE_PLAIN)
def test_values_beyond_the_plain_forms_take_the_common_path(name):
    assert _agrees(EDGES[name])


@pytest.mark.parametrize("name", ["NUL in a text", "escaped backslash before u0000", "lone surrogate"])
def test_an_escaped_nul_or_a_lone_surrogate_is_left_to_the_full_validation(name):
    assert not _agrees(EDGES[name])


def test_problems_are_named_by_the_full_validation():
    raw = _body({"email": "a@b.co", "language": "FR"}, {"email": "not an email"}, {"firstName": "x"})
    with pytest.raises(BodyProblems) as refused:
        bulk_request_parse_json(raw)
    assert refused.value.errors == [
        {"index": 1, "field": "email", "message": "must be a valid email address"},
        {"index": 2, "field": "email", "message": "each contact needs an email or a linkedinUrl"},
    ]


_iso_datetimes = st.builds(
    lambda moment, zone, separator, spec: moment.replace(tzinfo=zone).isoformat(sep=separator, timespec=spec),
    st.datetimes(),
    st.sampled_from([None, UTC, timezone(timedelta(hours=2)), timezone(-timedelta(hours=5, minutes=30))]),
    st.sampled_from(["T", " "]),
    st.sampled_from(["auto", "seconds", "milliseconds"]),
) | st.dates().map(date.isoformat)


def _kind_values(kind: str):
    common = {
        "email": st.from_regex(COMMON_EMAIL_ASCII, fullmatch=True), "owner": st.from_regex(COMMON_EMAIL_ASCII, fullmatch=True),
        "url": st.from_regex(COMMON_URL, fullmatch=True), "linkedin": st.from_regex(COMMON_LINKEDIN, fullmatch=True),
        "datetime": st.from_regex(COMMON_UTC_DATETIME, fullmatch=True) | _iso_datetimes,
        "text": st.text(max_size=80),
        "source": st.sampled_from([*SOURCES, "API"]),
        "language": st.sampled_from(["fr", "en", "FR", "eN", "xx", "\u212ak", "f"]),
        "vars": st.dictionaries(
            st.text(max_size=4),
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=4),
            max_size=3,
        ),
    }[kind]
    return common | st.sampled_from(NEAR_MISSES) | st.none() | st.integers()


_contacts = st.fixed_dictionaries({}, optional={f.api: _kind_values(f.kind) for f in CONTACT_FIELDS})


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_contacts, min_size=1, max_size=4), st.booleans())
@example([{"email": "a@b.co", "collectedAt": "2026-11-01T10:00:00.100Z"}], True)
def test_generated_bodies_taken_by_the_common_path_give_what_the_full_validation_gives(contacts, ascii_only):
    _agrees(json.dumps({"list": {"name": "L"}, "contacts": contacts}, ensure_ascii=ascii_only).encode())
