"""The fast paths of bulk validation (schemas pydantic-core checks without calling Python)
accept only values that the full checks accept, unchanged: a shortcut, never a different
verdict. Values are generated from the fast patterns themselves, and near them."""

import itertools
import string

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticCustomError, SchemaValidator, ValidationError, from_json, to_json

from contacts.bulk_input import (
    _FAST_DATETIME,
    _FAST_VARS,
    _fast_text,
    _parse_collected_at,
    _valid_email,
    _valid_linkedin,
    _valid_url,
    _valid_vars,
    BodyProblems,
    bulk_request_parse,
    bulk_request_parse_json,
)
from contacts.common_contacts import COMMON_EMAIL_ASCII, COMMON_LINKEDIN, COMMON_URL, COMMON_UTC_DATETIME
from contacts.fields import CONTACT_FIELDS, FIELDS_BY_API, VARS_MAX_KEY_LENGTH, VARS_MAX_KEYS, VARS_MAX_VALUE_LENGTH
from contacts.languages import ISO_639_1
from contacts.payload import StoredRows, payload_of_packed

# Each fast path at the longest length a field of its kind takes.
FAST_TEXT = {
    "url": (COMMON_URL, _valid_url, max(f.max_length for f in CONTACT_FIELDS if f.kind == "url")),
    "linkedin": (COMMON_LINKEDIN, _valid_linkedin, FIELDS_BY_API["linkedinUrl"].max_length),
    "email": (
        COMMON_EMAIL_ASCII, _valid_email, max(f.max_length for f in CONTACT_FIELDS if f.kind in ("email", "owner"))
    ),
}
checked = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def _fast_accepts(validator: SchemaValidator, value) -> bool:
    try:
        assert validator.validate_python(value) == value
        return True
    except ValidationError:
        return False


def _full_accepts(check, value) -> bool:
    try:
        assert check(value) == value
        return True
    except PydanticCustomError:
        return False


def _agrees(kind: str, value: str) -> None:
    pattern, check, max_length = FAST_TEXT[kind]
    if _fast_accepts(SchemaValidator(_fast_text(pattern, max_length).schema), value):
        assert _full_accepts(check, value), f"{value!r} passes the {kind} fast path, not its check"


# Hosts and forms the fast path must leave to the full check, or that are only just common.
NEAR_MISSES = [
    "http://999999999999", "http://1.2.3.4.5", "http://0x10", "http://a.0x10", "https://xn--a.com",
    "https://xn--mnchen-3ya.de", "http://-a.com", "http://a-.com", "http://a--b.com",
    "http://a.com:65536", "http://a.com:99999", "http://a.com.", "http://a..com", "http://a.com/ x",
    "http://a.com/\x00", "HTTP://A.COM", "https://WWW.LINKEDIN.COM/in/x", "https://linkedin.com.evil.com",
    "https://evil-linkedin.com/in/x", "https://www.linkedin.com:443/in/x?trk=a#b", "https://a.com\n",
    "http://\u212aelvin.com", "https://linkedin.co", "http://localhost:8080/x?y#z", "http://a.b-c.de/%zz",
    "ada@example.test", "a@b", "a@b.c", "ada@example.123", "ada@-a.test", "ada@a-.test", "ada..b@a.test",
    ".a@a.test", "a.@a.test", "a@" + "b" * 63 + ".test", "a@" + "b" * 64 + ".test", "a@b.test\n", "a" * 250 + "@b.co",
    "\u212a@b.test", "a@b.\u212aa",
]


@pytest.mark.parametrize("value", NEAR_MISSES)
@pytest.mark.parametrize("kind", FAST_TEXT)
def test_near_misses_get_the_full_checks_verdict(kind, value):
    _agrees(kind, value)


@checked
@given(st.from_regex(COMMON_URL, fullmatch=True))
def test_every_common_url_is_a_valid_url(value):
    _agrees("url", value)


@checked
@given(st.from_regex(COMMON_LINKEDIN, fullmatch=True))
def test_every_common_linkedin_url_is_a_valid_linkedin_url(value):
    _agrees("linkedin", value)


@checked
@given(st.from_regex(COMMON_EMAIL_ASCII, fullmatch=True))
def test_every_common_email_is_a_valid_email(value):
    _agrees("email", value)


@checked
@given(st.text(alphabet="htps:/.-@_a1Z%?#x", max_size=40))
def test_strings_near_the_patterns_get_the_full_checks_verdict(value):
    for kind in FAST_TEXT:
        _agrees(kind, value)


def _one_edit_away(pattern: str):
    """Values of the pattern with one character inserted, removed or replaced: most fall
    just outside it, where a too-loose pattern would let a bad value through."""
    edits = st.sampled_from(["insert", "remove", "replace"])
    characters = st.sampled_from(list("-._@:/?#%~+ \n\x00\u212a0aZ") + ["xn--", "..", "--"])
    return st.tuples(st.from_regex(pattern, fullmatch=True), edits, st.integers(min_value=0), characters).map(
        lambda t: _edited(*t)
    )


def _edited(value: str, edit: str, at: int, text: str) -> str:
    at %= len(value) + 1
    if edit == "insert":
        return value[:at] + text + value[at:]
    if edit == "remove":
        return value[:at] + value[at + 1 :]
    return value[:at] + text + value[at + 1 :]


@checked
@given(st.data())
def test_values_one_edit_away_from_the_patterns_get_the_full_checks_verdict(data):
    for kind, (pattern, _, _) in FAST_TEXT.items():
        _agrees(kind, data.draw(_one_edit_away(pattern)))


def test_the_common_forms_take_the_fast_path():
    """What a typical body holds is accepted without the full check (else the path is moot)."""
    for kind, value in [
        ("url", "https://company1.example.com"), ("url", "https://pictures.example.com/1.png?s=80"),
        ("linkedin", "https://www.linkedin.com/in/person-1"), ("email", "person1@bench.test"),
    ]:
        pattern, _, max_length = FAST_TEXT[kind]
        assert _fast_accepts(SchemaValidator(_fast_text(pattern, max_length).schema), value)
    assert _fast_accepts(SchemaValidator(_FAST_VARS.schema), {"tag": "v2", "rank": 1, "ok": True, "x": None})
    SchemaValidator(_FAST_DATETIME.schema).validate_json('"2026-11-01T10:00:00Z"')


scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=VARS_MAX_VALUE_LENGTH + 5),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)


@checked
@given(st.dictionaries(st.text(max_size=VARS_MAX_KEY_LENGTH + 5), scalars, max_size=VARS_MAX_KEYS + 3))
@example({"a": 5.0, "b": 5, "c": True, "d": 10**30})
@example({"a": float("inf")})
@example({"": 1})
@example({"a\x00": 1})
@example({"a": "b\x00"})
@example(dict.fromkeys(map(str, range(VARS_MAX_KEYS + 1)), 1))
@example({"a": "x" * (VARS_MAX_VALUE_LENGTH + 1)})
@example({"k" * (VARS_MAX_KEY_LENGTH + 1): 1})
def test_vars_on_the_fast_path_are_valid_vars_unchanged(value):
    validator = SchemaValidator(_FAST_VARS.schema)
    try:
        fast = validator.validate_python(value)
    except ValidationError:
        return
    assert _valid_vars(value) == value
    assert fast == value
    assert [type(v) for v in fast.values()] == [type(v) for v in value.values()]


@checked
@given(st.dictionaries(st.text(max_size=VARS_MAX_KEY_LENGTH + 5), scalars, max_size=VARS_MAX_KEYS + 3))
@example({"a": 5.0, "b": 5, "c": True, "d": 10**30, "e": 1e300})
@example({"a": "b\x00"})
@example({"a": "x" * (VARS_MAX_VALUE_LENGTH + 1)})
@example({"k" * (VARS_MAX_KEY_LENGTH + 1): 1})
@example(dict.fromkeys(map(str, range(VARS_MAX_KEYS + 1)), 1))
def test_vars_in_a_json_body_pass_the_fast_path_only_if_valid_and_unchanged(value):
    """As the API receives them: JSON text, parsed by pydantic-core."""
    text = to_json(value)  # an infinity as `Infinity`, which the fast path must refuse too
    try:
        fast = SchemaValidator(_FAST_VARS.schema).validate_json(text)
    except ValidationError:
        return
    parsed = from_json(text)
    assert _valid_vars(parsed) == parsed
    assert fast == parsed and to_json(fast) == text


def _datetime_agrees(value: str) -> None:
    try:
        fast = SchemaValidator(_FAST_DATETIME.schema).validate_json(to_json(value))
    except ValidationError:
        return
    full = _parse_collected_at(value)
    assert fast == full and to_json(fast) == to_json(full), value  # one instant, stored alike


@pytest.mark.parametrize("value", [
    "2026-11-01T10:00:00Z", "2026-02-30T10:00:00Z", "2023-02-29T00:00:00Z", "2024-02-29T00:00:00Z",
    "2026-11-01T24:00:00Z", "2026-11-01T10:00:60Z", "0000-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z", "2026-11-01T10:00:00.1234567Z", "2026-11-01T10:00:00+00:00",
    "2026-11-01", "2026-11-01t10:00:00z", "2026-11-01T10:00:00Z\n", "1700000000",
])
def test_datetimes_near_the_common_form_get_the_full_checks_verdict(value):
    _datetime_agrees(value)


@checked
@given(st.from_regex(COMMON_UTC_DATETIME, fullmatch=True))
def test_every_common_utc_datetime_is_the_same_instant_by_the_full_check(value):
    _datetime_agrees(value)


def test_fast_path_labels_never_reach_an_error():
    with pytest.raises(BodyProblems) as refused:
        bulk_request_parse({"list": {"name": "L"}, "contacts": [
            {"email": "bad@", "companyWebsite": "ftp://x", "vars": {"a": []}, "owner": None},
        ]})
    assert refused.value.errors == [
        {"index": 0, "field": "owner", "message": "may not be null"},
        {"index": 0, "field": "vars", "message": "value of 'a' must be a string, number, boolean or null"},
        {"index": 0, "field": "email", "message": "must be a valid email address"},
        {"index": 0, "field": "companyWebsite", "message": "must be a valid http(s) URL"},
    ]


def _common_value(kind: str, length: int) -> str:
    """A value of `kind` in its common form (its fast path's), `length` characters long."""
    if kind in ("email", "owner"):
        domain = "@" + ".".join(["b" * 63, "c" * 63, "d" * 56]) + ".test"  # 190 characters
        return "a" * (length - len(domain)) + domain
    prefix = {"text": "", "url": "https://example.com/", "linkedin": "https://www.linkedin.com/in/"}[kind]
    return prefix + "p" * (length - len(prefix))


def _problems_of(contact: dict) -> list[dict]:
    body = {"list": {"name": "L"}, "contacts": [{"email": "k@example.test", **contact}]}
    try:
        bulk_request_parse_json(to_json(body))
    except BodyProblems as refused:
        return refused.errors
    return []


TEXT_FIELDS = [f for f in CONTACT_FIELDS if f.max_length is not None]
FULL_CHECK_MESSAGES = {
    "email": "must be a valid email address", "owner": "must be a valid email address",
    "url": "must be a valid http(s) URL", "linkedin": "must be a valid http(s) URL",
}


@pytest.mark.parametrize("field", TEXT_FIELDS, ids=lambda f: f.api)
def test_each_text_field_takes_its_kinds_common_form_up_to_its_own_length(field):
    longest = _common_value(field.kind, field.max_length)

    assert _problems_of({field.api: longest}) == []
    assert _problems_of({field.api: longest + "p"}) == [
        {"index": 0, "field": field.api, "message": f"String should have at most {field.max_length} characters"}
    ]
    if field.kind in FULL_CHECK_MESSAGES:  # its full check, which speaks for it
        assert _problems_of({field.api: "p p"}) == [
            {"index": 0, "field": field.api, "message": FULL_CHECK_MESSAGES[field.kind]}
        ]


# The language is checked by pydantic-core alone (a pattern, lowering, a lookup in the codes).
NOT_A_LANGUAGE = [{"index": 0, "field": "language", "message": "must be a two-letter ISO 639-1 code"}]


def _language_of(value):
    """The language a contact with this `language` is stored with, or None if it is refused."""
    body = {"list": {"name": "L"}, "contacts": [{"email": "k@example.test", "language": value}]}
    try:
        validated = bulk_request_parse_json(to_json(body))
    except BodyProblems as refused:
        assert refused.errors == NOT_A_LANGUAGE
        return None
    return StoredRows(payload_of_packed(pieces=validated.stored_pieces(1), owners={})).piece(0)[0]["language"]


def test_the_language_codes_are_those_of_iso_639_1_in_force():
    assert len(ISO_639_1) == 183
    assert all(len(code) == 2 and code.isascii() and code.islower() for code in ISO_639_1)
    assert {"en", "fr", "pt", "zh", "ht", "nb", "nn", "no"} <= ISO_639_1
    assert not {"sh", "bh", "iw", "in", "ji", "jw", "mo"} & ISO_639_1  # withdrawn


def test_language_takes_exactly_the_iso_639_1_codes_in_any_case_and_lowercases_them():
    pairs = ["".join(pair) for pair in itertools.product(string.ascii_letters, repeat=2)]

    assert {pair: _language_of(pair) for pair in pairs} == {
        pair: pair.lower() if pair.lower() in ISO_639_1 else None for pair in pairs
    }


@checked
@given(st.text(alphabet=st.sampled_from("enFRzZ \u212a\u0130\u017f\x00"), max_size=3) | st.text(max_size=3))
def test_a_language_other_than_a_code_in_ascii_is_refused(value):
    stored = _language_of(value)
    assert stored is None or (value.isascii() and value.lower() == stored and stored in ISO_639_1)
