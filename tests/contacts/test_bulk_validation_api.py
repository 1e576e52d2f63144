"""POST /api/v1/contacts/bulk refuses every invalid body or query with a 400 that names each
problem, and writes nothing; too large a body answers 413, missing credentials 401, a token
without contacts:write 403. In-process API client on the real PostgreSQL test database."""

import json
import uuid

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator

from django.core.signals import request_finished
from django.db import close_old_connections
from rest_framework.test import APIRequestFactory

from contacts.apis import ContactBulkCreateApi
from contacts.bulk_input import MAX_CONTACTS, MAX_REPORTED_ERRORS, BodyProblems, bulk_request_parse
from contacts.models import BulkJob, Contact
from contacts.services import UNKNOWN_LIST, bulk_job_process
from lists.models import ContactList
from realtime.events import MESSAGE_TYPE, frame, starting
from tests import factories

pytestmark = pytest.mark.django_db

BULK = "/api/v1/contacts/bulk"
VALID = {"email": "ada@example.test"}
NOT_NULL = "may not be null"
NOT_A_STRING = "Input should be a valid string"
SOURCES = "Input should be 'manual', 'connect', 'import' or 'api'"
DATETIME = "must be an ISO 8601 date or date-time string"
NEEDS_A_KEY = "each contact needs an email or a linkedinUrl"
VARS_KEY = "keys must be 1 to 100 characters of valid Unicode without NUL"
LANGUAGE = "must be a two-letter ISO 639-1 code"


def _vars_value(key: str) -> str:
    return f"value of {key!r} must be at most 2000 characters of valid Unicode without NUL"


def _too_long(limit: int) -> str:
    return f"String should have at most {limit} characters"


def _stored() -> dict:
    return {
        "contacts": Contact.objects.count(),
        "lists": ContactList.objects.count(),
        "jobs": BulkJob.objects.count(),
    }


def _post(client, body, query: str = ""):
    raw = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(f"{BULK}{query}", raw, content_type="application/json")


def _refused(client, body, *, query: str = "", status: int = 400) -> list[dict]:
    """Post, assert the status and that no row of any kind was written; return the errors."""
    before = _stored()
    response = _post(client, body, query)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert _stored() == before
    return response.json()["errors"]


def _body(*contacts, list_ref=None) -> dict:
    return {"list": {"name": "Leads"} if list_ref is None else list_ref, "contacts": list(contacts)}


# --- the body as a whole -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{", "is not valid JSON: EOF while parsing an object at line 1 column 1"),
        ("", "is not valid JSON: EOF while parsing a value at line 1 column 0"),
        (b"\xff{}", "is not valid JSON: expected value at line 1 column 1"),
    ],
    ids=["truncated", "empty", "not-utf8"],
)
def test_invalid_json_is_refused_on_field_body(api, raw, message):
    assert _refused(api, raw) == [{"field": "body", "message": message}]


@pytest.mark.parametrize("raw", ["[]", '"contacts"', "null", "3"], ids=["array", "string", "null", "number"])
def test_body_that_is_not_an_object_is_refused(api, raw):
    assert _refused(api, raw) == [{"field": "body", "message": "must be a JSON object"}]


def test_missing_list_and_contacts_are_each_named(api):
    assert _refused(api, {}) == [
        {"field": "list", "message": "is required"},
        {"field": "contacts", "message": "is required"},
    ]


def test_missing_list_is_refused(api):
    assert _refused(api, {"contacts": [VALID]}) == [{"field": "list", "message": "is required"}]


def test_missing_contacts_is_refused(api):
    assert _refused(api, {"list": {"name": "Leads"}}) == [{"field": "contacts", "message": "is required"}]


def test_unknown_top_level_field_is_refused(api):
    assert _refused(api, {**_body(VALID), "dryRun": True}) == [
        {"field": "dryRun", "message": "is not a known field"}
    ]


def test_zero_contacts_are_refused(api):
    assert _refused(api, _body()) == [
        {"field": "contacts", "message": "List should have at least 1 item after validation, not 0"}
    ]


def test_more_than_ten_thousand_contacts_are_refused(api):
    contacts = [{"email": f"c{i}@example.test"} for i in range(MAX_CONTACTS + 1)]
    assert _refused(api, _body(*contacts)) == [
        {"field": "contacts", "message": "List should have at most 10000 items after validation, not 10001"}
    ]


def test_ten_thousand_contacts_are_a_valid_body():
    contacts = [{"email": f"c{i}@example.test"} for i in range(MAX_CONTACTS)]
    assert len(bulk_request_parse(_body(*contacts)).contacts) == MAX_CONTACTS


@pytest.mark.parametrize("number", ["NaN", "-Infinity"])
def test_nan_and_infinity_are_refused_where_they_stand(api, number):
    # Not JSON numbers; jsonb cannot hold them either.
    raw = '{"list": {"name": "Leads"}, "contacts": [{"email": "ada@example.test", "vars": {"score": %s}}]}' % number
    assert _refused(api, raw) == [{"index": 0, "field": "vars", "message": "value of 'score' must be a finite number"}]


def test_contacts_that_is_not_an_array_is_refused(api):
    assert _refused(api, {"list": {"name": "Leads"}, "contacts": {"email": "ada@example.test"}}) == [
        {"field": "contacts", "message": "Input should be a valid array"}
    ]


# --- the list ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "list_ref, errors",
    [
        ({"id": str(uuid.uuid4()), "name": "Leads"}, [{"field": "list", "message": "must have exactly one of id or name"}]),
        ({}, [{"field": "list", "message": "must have exactly one of id or name"}]),
        ({"name": None}, [{"field": "list", "message": "must have exactly one of id or name"}]),
        ("Leads", [{"field": "list", "message": "must be a JSON object"}]),
        ({"name": "Leads", "color": "red"}, [{"field": "list.color", "message": "is not a known field"}]),
        ({"name": ""}, [{"field": "list.name", "message": "String should have at least 1 character"}]),
        ({"name": "x" * 201}, [{"field": "list.name", "message": _too_long(200)}]),
        ({"name": "Le\x00ads"}, [{"field": "list.name", "message": "must not contain NUL characters"}]),
        ({"name": 7}, [{"field": "list.name", "message": NOT_A_STRING}]),
        ({"id": 7}, [{"field": "list.id", "message": NOT_A_STRING}]),
    ],
    ids=[
        "id-and-name", "neither", "null-name", "not-an-object", "unknown-field", "empty-name",
        "long-name", "nul-in-name", "name-not-a-string", "id-not-a-string",
    ],
)
def test_invalid_list_reference_is_refused(api, list_ref, errors):
    assert _refused(api, _body(VALID, list_ref=list_ref)) == errors


def test_unknown_list_id_and_another_accounts_list_id_get_the_same_answer(api, account):
    other_account = factories.account_make()
    others_list = factories.list_make(other_account, "Leads")

    unknown = _refused(api, _body(VALID, list_ref={"id": str(uuid.uuid4())}))
    foreign = _refused(api, _body(VALID, list_ref={"id": str(others_list.pk)}))
    malformed = _refused(api, _body(VALID, list_ref={"id": "not-a-uuid"}))

    assert unknown == foreign == malformed == [{"field": "list", "message": UNKNOWN_LIST}]
    assert not Contact.objects.filter(list=others_list).exists()


# --- one contact ---------------------------------------------------------------------------


def _row(field: str, message: str, index: int = 1) -> list[dict]:
    return [{"index": index, "field": field, "message": message}]


CONTACT_CASES = {
    "not-an-object": ("ada@example.test", _row("contacts", "must be a JSON object")),
    "unknown-field": ({**VALID, "nickname": "Ada"}, _row("nickname", "is not a known field")),
    "model-name-not-api-name": ({**VALID, "first_name": "Ada"}, _row("first_name", "is not a known field")),
    "null-unknown-field": ({**VALID, "nickname": None}, _row("nickname", "is not a known field")),
    "null-model-name": ({**VALID, "collected_at": None}, _row("collected_at", "is not a known field")),
    "no-email-nor-linkedin": ({"firstName": "Ada"}, _row("email", NEEDS_A_KEY)),
    "null-email-and-linkedin": ({"email": None, "linkedinUrl": None}, _row("email", NEEDS_A_KEY)),
    "bad-email": ({"email": "ada.example.test"}, _row("email", "must be a valid email address")),
    "non-linkedin-url": (
        {"linkedinUrl": "https://twitter.com/ada"}, _row("linkedinUrl", "must be a linkedin.com URL")
    ),
    "lookalike-linkedin-host": (
        {"linkedinUrl": "https://linkedin.com.example.test/in/ada"},
        _row("linkedinUrl", "must be a linkedin.com URL"),
    ),
    "linkedin-without-scheme": (
        {"linkedinUrl": "linkedin.com/in/ada"}, _row("linkedinUrl", "must be a valid http(s) URL")
    ),
    "bad-company-website": (
        {**VALID, "companyWebsite": "ftp://example.test"}, _row("companyWebsite", "must be a valid http(s) URL")
    ),
    "bad-picture-url": ({**VALID, "pictureUrl": "gravatar"}, _row("pictureUrl", "must be a valid http(s) URL")),
    "collected-at-words": ({**VALID, "collectedAt": "yesterday"}, _row("collectedAt", DATETIME)),
    "collected-at-impossible-date": ({**VALID, "collectedAt": "2024-02-30"}, _row("collectedAt", DATETIME)),
    "collected-at-number": ({**VALID, "collectedAt": 1700000000}, _row("collectedAt", DATETIME)),
    "collected-at-past-year-9999-in-utc": (
        {**VALID, "collectedAt": "9999-12-31T23:00:00-05:00"}, _row("collectedAt", DATETIME)
    ),
    "collected-at-before-year-1-in-utc": (
        {**VALID, "collectedAt": "0001-01-01T00:30:00+01:00"}, _row("collectedAt", DATETIME)
    ),
    "unknown-source": ({**VALID, "source": "web"}, _row("source", SOURCES)),
    "source-not-a-string": ({**VALID, "source": 1}, _row("source", SOURCES)),
    "three-letter-language": ({**VALID, "language": "eng"}, _row("language", LANGUAGE)),
    "language-with-digit": ({**VALID, "language": "e1"}, _row("language", LANGUAGE)),
    "two-letters-not-a-language": ({**VALID, "language": "zz"}, _row("language", LANGUAGE)),
    "upper-case-not-a-language": ({**VALID, "language": "ZZ"}, _row("language", LANGUAGE)),
    "withdrawn-language": ({**VALID, "language": "sh"}, _row("language", LANGUAGE)),
    "kelvin-sign-lowercasing-to-a-language": ({**VALID, "language": "\u212ai"}, _row("language", LANGUAGE)),
    "vars-nested-object": (
        {**VALID, "vars": {"team": {"size": 3}}},
        _row("vars", "value of 'team' must be a string, number, boolean or null"),
    ),
    "vars-array-value": (
        {**VALID, "vars": {"tags": ["a"]}}, _row("vars", "value of 'tags' must be a string, number, boolean or null")
    ),
    "vars-too-many-keys": (
        {**VALID, "vars": {f"k{i}": i for i in range(101)}}, _row("vars", "must have at most 100 keys")
    ),
    "vars-empty-key": ({**VALID, "vars": {"": 1}}, _row("vars", VARS_KEY)),
    "vars-long-key": (
        {**VALID, "vars": {"k" * 101: 1}}, _row("vars", VARS_KEY)
    ),
    "vars-long-value": (
        {**VALID, "vars": {"note": "x" * 2001}},
        _row("vars", _vars_value("note")),
    ),
    "vars-not-an-object": ({**VALID, "vars": ["a"]}, _row("vars", "Input should be an object")),
    "null-owner": ({**VALID, "owner": None}, _row("owner", NOT_NULL)),
    "null-source": ({**VALID, "source": None}, _row("source", NOT_NULL)),
    "null-language": ({**VALID, "language": None}, _row("language", NOT_NULL)),
    "null-vars": ({**VALID, "vars": None}, _row("vars", NOT_NULL)),
    "null-collected-at": ({**VALID, "collectedAt": None}, _row("collectedAt", NOT_NULL)),
    "owner-not-an-email": ({**VALID, "owner": "ada"}, _row("owner", "must be a valid email address")),
    "owner-not-a-string": ({**VALID, "owner": 7}, _row("owner", NOT_A_STRING)),
    "long-first-name": ({**VALID, "firstName": "x" * 256}, _row("firstName", _too_long(255))),
    "long-company-size": ({**VALID, "companySize": "1" * 65}, _row("companySize", _too_long(64))),
    "long-zipcode": ({**VALID, "zipcode": "9" * 33}, _row("zipcode", _too_long(32))),
    "long-description": (
        {**VALID, "companyDescription": "x" * 5001}, _row("companyDescription", _too_long(5000))
    ),
    "long-email": (
        {"email": "a" * 243 + "@example.test"}, _row("email", _too_long(254))
    ),
    "long-linkedin-url": (
        {"linkedinUrl": "https://www.linkedin.com/in/" + "a" * 2021},
        _row("linkedinUrl", _too_long(2048)),
    ),
    "nul-in-first-name": ({**VALID, "firstName": "A\x00da"}, _row("firstName", "must not contain NUL characters")),
    "nul-in-email": ({"email": "ada\x00@example.test"}, _row("email", "must not contain NUL characters")),
    "nul-in-vars-value": (
        {**VALID, "vars": {"note": "a\x00"}},
        _row("vars", _vars_value("note")),
    ),
    "nul-in-vars-key": (
        {**VALID, "vars": {"no\x00te": "a"}}, _row("vars", VARS_KEY)
    ),
    "email-not-a-string": ({"email": 7}, _row("email", NOT_A_STRING)),
    "first-name-boolean": ({**VALID, "firstName": True}, _row("firstName", NOT_A_STRING)),
    "phone-number": ({**VALID, "phone": 33123456789}, _row("phone", NOT_A_STRING)),
    "linkedin-not-a-string": ({"linkedinUrl": 5}, _row("linkedinUrl", NOT_A_STRING)),
    "language-not-a-string": ({**VALID, "language": 12}, _row("language", NOT_A_STRING)),
}


@pytest.mark.parametrize("contact, errors", CONTACT_CASES.values(), ids=CONTACT_CASES.keys())
def test_invalid_contact_is_refused_naming_its_index_and_field(api, contact, errors):
    assert _refused(api, _body({"email": "first@example.test"}, contact)) == errors


def test_language_code_in_upper_case_is_accepted_and_stored_in_lower_case(api):
    accepted = _post(api, _body({**VALID, "language": "PT"}))
    assert accepted.status_code == 202, accepted.content

    bulk_job_process(job_id=accepted.json()["uuid"])
    assert Contact.objects.get().language == "pt"


@pytest.mark.parametrize(
    "contact",
    ['{"email": "a@example.test", "vars": {"k": "\\ud800"}}', '{"email": "a@example.test", "\\udc00": 1}'],
    ids=["in-a-value", "in-a-field-name"],
)
def test_lone_surrogate_escape_is_refused_as_invalid_json(api, contact):
    # A JSON escape can carry half a UTF-16 pair, which PostgreSQL text cannot hold.
    raw = '{"list": {"name": "Leads"}, "contacts": [%s]}' % contact
    [problem] = _refused(api, raw)
    assert problem["field"] == "body" and problem["message"].startswith("is not valid JSON: ")


def test_vars_number_beyond_float_range_is_refused(api):
    # Valid JSON, but Python reads 1e400 as infinity, which jsonb cannot hold.
    raw = '{"list": {"name": "Leads"}, "contacts": [{"email": "a@example.test", "vars": {"score": 1e400}}]}'
    assert _refused(api, raw) == [{"index": 0, "field": "vars", "message": "value of 'score' must be a finite number"}]


def test_every_problem_of_every_contact_is_named(api):
    contacts = [
        {"email": "bad", "source": "web"},
        VALID,
        {"linkedinUrl": "https://example.test/ada", "language": "english"},
    ]
    assert _refused(api, _body(*contacts)) == [
        {"index": 0, "field": "source", "message": SOURCES},
        {"index": 0, "field": "email", "message": "must be a valid email address"},
        {"index": 2, "field": "linkedinUrl", "message": "must be a linkedin.com URL"},
        {"index": 2, "field": "language", "message": LANGUAGE},
    ]


def test_list_problems_and_contact_problems_are_named_together(api):
    assert _refused(api, {"list": {}, "contacts": [{"firstName": "Ada"}]}) == [
        {"field": "list", "message": "must have exactly one of id or name"},
        {"index": 0, "field": "email", "message": NEEDS_A_KEY},
    ]


def test_problems_beyond_the_reported_maximum_are_summed_up(api):
    contacts = [{"email": f"bad-{i}"} for i in range(MAX_REPORTED_ERRORS + 5)]
    errors = _refused(api, _body(*contacts))
    assert len(errors) == MAX_REPORTED_ERRORS + 1
    assert errors[0] == {"index": 0, "field": "email", "message": "must be a valid email address"}
    assert errors[MAX_REPORTED_ERRORS - 1]["index"] == MAX_REPORTED_ERRORS - 1
    assert errors[-1] == {"field": "contacts", "message": "5 more problems not listed"}


# --- owners (checked against the account) --------------------------------------------------


def test_owner_from_another_account_is_refused_naming_the_row(api, account):
    stranger = factories.user_make(factories.account_make())
    body = _body(VALID, {"email": "grace@example.test", "owner": stranger.email})
    assert _refused(api, body) == _row("owner", "no user of your account has this email")


def test_owner_unknown_anywhere_is_refused_and_the_named_list_is_not_created(api):
    body = _body(
        {**VALID, "owner": "nobody@example.test"},
        {"email": "grace@example.test"},
        {"email": "linus@example.test", "owner": "nobody-either@example.test"},
        list_ref={"name": "Never created"},
    )
    assert _refused(api, body) == [
        {"index": 0, "field": "owner", "message": "no user of your account has this email"},
        {"index": 2, "field": "owner", "message": "no user of your account has this email"},
    ]
    assert not ContactList.objects.filter(name="Never created").exists()


def test_inactive_user_of_the_account_is_not_an_owner(api, account):
    retired = factories.user_make(account, is_active=False)
    assert _refused(api, _body(VALID, {"email": "g@example.test", "owner": retired.email})) == _row(
        "owner", "no user of your account has this email"
    )


def test_refused_request_sends_no_event(api, user):
    with factories.events_subscribed(user) as channel:
        _refused(api, _body({**VALID, "owner": "nobody@example.test"}))
        _refused(api, _body(VALID, list_ref={"id": str(uuid.uuid4())}))
        accepted = _post(api, _body(VALID))
        assert accepted.status_code == 202, accepted.content
        # Anything the refused requests had sent would be queued on the channel before this.
        first = factories.events_next_message(channel)
    job = accepted.json()
    assert first == {"type": MESSAGE_TYPE, "frames": [frame(starting(job_id=job["uuid"], list_id=job["listId"]))]}


# --- the query -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, errors",
    [
        ("?moveToList=yes", [{"field": "moveToList", "message": "must be true, false, 1 or 0"}]),
        ("?replaceOwner=", [{"field": "replaceOwner", "message": "must be true, false, 1 or 0"}]),
        ("?moveToList=2&replaceOwner=on", [
            {"field": "moveToList", "message": "must be true, false, 1 or 0"},
            {"field": "replaceOwner", "message": "must be true, false, 1 or 0"},
        ]),
        ("?dryRun=true", [{"field": "dryRun", "message": "is not a known query parameter"}]),
        ("?movetolist=true", [{"field": "movetolist", "message": "is not a known query parameter"}]),
    ],
    ids=["not-a-boolean", "empty", "both-bad", "unknown", "wrong-case-name"],
)
def test_invalid_query_is_refused(api, query, errors):
    assert _refused(api, _body(VALID), query=query) == errors


@pytest.mark.parametrize(
    "query, move_to_list, replace_owner",
    [("", False, False), ("?moveToList=true&replaceOwner=0", True, False), ("?moveToList=0&replaceOwner=1", False, True)],
)
def test_valid_query_booleans_are_applied_to_the_job(api, query, move_to_list, replace_owner):
    response = _post(api, _body(VALID), query)
    assert response.status_code == 202, response.content
    job = BulkJob.objects.get(pk=response.json()["uuid"])
    assert (job.move_to_list, job.replace_owner) == (move_to_list, replace_owner)


# --- size and credentials ------------------------------------------------------------------


def test_body_over_the_size_limit_answers_413_json(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    contacts = [{"email": f"c{i}@example.test"} for i in range(100)]
    assert _refused(api, _body(*contacts), status=413) == [
        {"field": "body", "message": "The request body is larger than this service accepts."}
    ]


@pytest.mark.parametrize(
    "content_type, message",
    [
        ("text/plain", 'must be application/json, not "text/plain"'),
        ("application/x-www-form-urlencoded", 'must be application/json, not "application/x-www-form-urlencoded"'),
        ("", "is missing: send application/json"),
    ],
)
def test_body_not_sent_as_json_answers_415_on_field_content_type(api, content_type, message):
    before = _stored()
    response = api.generic("POST", BULK, json.dumps(_body(VALID)), content_type=content_type)

    assert response.status_code == 415
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"errors": [{"field": "Content-Type", "message": message}]}
    assert _stored() == before


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", ""])
def test_request_without_token_answers_401_whatever_its_body_type(db, content_type):
    from rest_framework.test import APIClient

    before = _stored()
    response = APIClient().generic("POST", BULK, json.dumps(_body(VALID)), content_type=content_type)
    assert response.status_code == 401
    assert _stored() == before


def test_multipart_body_with_a_valid_token_answers_415(api):
    before = _stored()
    response = api.post(BULK, {"contacts": "x"}, format="multipart")

    assert response.status_code == 415
    [problem] = response.json()["errors"]
    assert problem["field"] == "Content-Type" and problem["message"].startswith('must be application/json, not "multipart/form-data')
    assert _stored() == before


def test_request_without_token_answers_401(db):
    from rest_framework.test import APIClient

    before = _stored()
    response = _post(APIClient(), _body(VALID))
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Authentication credentials were not provided."}]}
    assert _stored() == before


def test_missing_token_is_answered_before_the_body_is_looked_at(db):
    from rest_framework.test import APIClient

    response = _post(APIClient(), "{not json")
    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Authentication credentials were not provided."}]}


def test_request_with_unknown_token_answers_401(db):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    before = _stored()
    response = _post(client, _body(VALID))
    assert response.status_code == 401
    assert _stored() == before


def test_token_without_write_scope_answers_403(user):
    client = factories.api_client_make(user, scope="contacts:read")
    assert _refused(client, _body(VALID), status=403) == [{"message": "This token lacks the contacts:write scope."}]


@pytest.mark.parametrize(
    "email",
    [
        "ada@example.test", "Ada.Lovelace+tag@Example.CO.uk", "a@b.c", "a@localhost", "a@b",
        "ada@-example.test", "ada@example-.test", "ada@exa_mple.test", "ada@example.t",
        "ada@example.123", "ada@münchen.de", "ada@xn--mnchen-3ya.de", "ada..b@example.test",
        ".ada@example.test", "ada.@example.test", '"ada b"@example.test', "ada@[127.0.0.1]",
        "ada@[::1]", "ada@example.test.", "a@b@example.test", "ada@" + "a" * 64 + ".test",
        "ada@example.test\n", "ada @example.test", "ådå@example.test", "ada@ex ample.test",
    ],
)
def test_the_email_check_agrees_with_djangos_validator(email):
    """The precompiled common-case check is a shortcut, never a different verdict."""
    try:
        EmailValidator()(email)
        django_accepts = True
    except DjangoValidationError:
        django_accepts = False
    try:
        bulk_request_parse({"list": {"name": "Leads"}, "contacts": [{"email": email}]})
        accepted = True
    except BodyProblems:
        accepted = False
    assert accepted == django_accepts


def test_the_jobs_ending_is_let_go_only_once_its_202_is_written(user):
    # Called as the server calls it: the response is closed once it has been written.
    request = APIRequestFactory().post(
        BULK, json.dumps(_body(VALID)), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {factories.token_make(user)}",
    )
    response = ContactBulkCreateApi.as_view()(request)
    assert response.status_code == 202
    job = BulkJob.objects.get(pk=response.data["uuid"])
    assert job.answer_pending  # its `ending` may not go yet (the job may run)

    request_finished.disconnect(close_old_connections)  # as Django's test client does: keep the test's connection
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)

    job.refresh_from_db()
    assert not job.answer_pending
