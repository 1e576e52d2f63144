"""Hostile bodies on the bulk route: each answers a 400 naming the problem, or is stored
exactly as documented; never a 500, never half a batch."""

import json

import pytest

from contacts.fields import CONTACT_FIELDS
from contacts.models import BulkJob, Contact
from contacts.services import bulk_job_process

pytestmark = pytest.mark.django_db

BULK = "/api/v1/contacts/bulk"


def _post_raw(api, raw: str | bytes):
    return api.generic("POST", BULK, raw, content_type="application/json")


def _body(*contacts) -> dict:
    return {"list": {"name": "Leads"}, "contacts": list(contacts)}


def _nothing_written():
    return not Contact.objects.exists() and not BulkJob.objects.exists()


@pytest.mark.parametrize(
    "contact, field",
    [
        ({"email": "a@example.test", "vars": {"deep": {"deeper": {"deepest": 1}}}}, "vars"),
        ({"email": "a@example.test", "vars": {f"k{i}": "v" for i in range(101)}}, "vars"),
        ({"email": "a@example.test", "vars": {"k": "x" * 2001}}, "vars"),
        ({"email": "a@example.test", "firstName": "x" * 1_000_000}, "firstName"),
        ({"email": "a@example.test", "firstName": 42}, "firstName"),
        ({"email": "a@example.test", "companyName": ["Acme"]}, "companyName"),
        ({"email": "a@example.test", "lastName": "Nul\x00Byte"}, "lastName"),
        ({"email": "a@example.test", "collectedAt": "99999-01-01"}, "collectedAt"),
        ({"email": "a@example.test", "collectedAt": 1700000000}, "collectedAt"),
        ({"email": None, "linkedinUrl": None}, "email"),
        ({"email": "a@example.test", "source": None}, "source"),
    ],
    ids=[
        "nested-vars", "too-many-vars", "long-vars-value", "one-megabyte-string", "number-for-string",
        "array-for-string", "nul-byte", "year-99999", "epoch-number-date", "null-keys", "null-source",
    ],
)
def test_hostile_contact_answers_400_naming_its_field_and_writes_nothing(api, contact, field):
    response = api.post(BULK, _body({"email": "ok@example.test"}, contact), format="json")

    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(1, field)]
    assert _nothing_written()


@pytest.mark.parametrize("raw", ["null", "[]", '"text"', "1e999", '{"list": null, "contacts": null}'])
def test_hostile_top_level_answers_400_and_writes_nothing(api, raw):
    response = _post_raw(api, raw)

    assert response.status_code == 400
    assert response.json()["errors"]
    assert _nothing_written()


@pytest.mark.parametrize("where", ["contacts", "list"])
def test_json_nested_past_any_parsers_depth_answers_400_and_writes_nothing(api, where):
    # Long enough to be split for two cores (contacts/validation_helper.py) before validation.
    deep = "[" * 100_000 + "]" * 100_000
    raw = (
        f'{{"list": {{"name": "Leads"}}, "contacts": {deep}}}' if where == "contacts"
        else f'{{"list": {deep}, "contacts": [{{"email": "a@example.test"}}]}}'
    )
    response = _post_raw(api, raw)

    assert response.status_code == 400
    assert response.json()["errors"]
    assert _nothing_written()


def test_non_utf8_bytes_answer_400_on_the_body(api):
    response = _post_raw(api, b'{"list": {"name": "\xff"}, "contacts": [{"email": "a@example.test"}]}')

    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "body"
    assert _nothing_written()


def test_duplicate_keys_keep_the_last_value_as_json_readers_do(api, user):
    raw = '{"list": {"name": "Leads"}, "contacts": [{"email": "a@example.test", "firstName": "First", "firstName": "Last"}]}'
    response = _post_raw(api, raw)
    assert response.status_code == 202
    bulk_job_process(job_id=response.json()["uuid"])

    assert Contact.objects.get().first_name == "Last"


def test_control_characters_other_than_nul_are_stored_as_sent(api):
    name = "Tab\there\u0007bell\u200bzero-width"
    response = api.post(BULK, _body({"email": "a@example.test", "firstName": name}), format="json")
    bulk_job_process(job_id=response.json()["uuid"])

    assert Contact.objects.get().first_name == name


def test_unicode_email_domain_is_stored_as_sent_and_matched_case_insensitively(api):
    first = api.post(BULK, _body({"email": "ada@exämple.test"}), format="json")
    bulk_job_process(job_id=first.json()["uuid"])
    again = api.post(BULK, _body({"email": "ADA@EXÄMPLE.TEST", "lastName": "L"}), format="json")
    bulk_job_process(job_id=again.json()["uuid"])

    contact = Contact.objects.get()
    assert (contact.email, contact.last_name) == ("ADA@EXÄMPLE.TEST", "L")
    assert BulkJob.objects.get(pk=again.json()["uuid"]).updated == 1


def test_unicode_in_the_local_part_of_an_email_answers_400(api):
    response = api.post(BULK, _body({"email": "ädä@example.test"}), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 0, "field": "email", "message": "must be a valid email address"}]


def test_a_bad_row_among_ten_thousand_writes_nothing(api):
    contacts = [{"email": f"c{i}@example.test"} for i in range(10_000)]
    contacts[9_999] = {"email": "broken"}

    response = api.post(BULK, _body(*contacts), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [{"index": 9999, "field": "email", "message": "must be a valid email address"}]
    assert _nothing_written()


def _longest_contact(i: int) -> dict:
    contact = {}
    for field in CONTACT_FIELDS:
        if field.kind == "text":
            contact[field.api] = "x" * field.max_length
        elif field.kind == "url":
            contact[field.api] = "https://example.com/" + "p" * (field.max_length - 20)
    unique = f"{i:05d}"
    # 254 characters: a 64-character local part, and a domain of labels of at most 63.
    contact["email"] = unique + "a" * 59 + "@" + ".".join(["b" * 63, "c" * 63, "d" * 56]) + ".test"
    contact["linkedinUrl"] = "https://www.linkedin.com/in/" + unique + "p" * (2048 - 33)
    return {**contact, "collectedAt": "2026-01-01T00:00:00+00:00", "source": "api", "language": "fr"}


def test_ten_thousand_contacts_with_every_field_at_its_maximum_length_are_stored_exactly(api):
    contacts = [_longest_contact(i) for i in range(10_000)]
    raw = json.dumps(_body(*contacts))
    assert len(raw) > 128 * 2**20  # the body this limit is sized for

    response = _post_raw(api, raw)
    assert response.status_code == 202, response.content[:500]
    bulk_job_process(job_id=response.json()["uuid"])

    job = BulkJob.objects.get()
    assert (job.status, job.created, job.failed) == ("done", 10_000, 0)
    stored = Contact.objects.get(email_key=contacts[1234]["email"].lower())
    assert stored.company_description == contacts[1234]["companyDescription"]
    assert stored.linkedin_url == contacts[1234]["linkedinUrl"]


def test_null_in_every_field_names_each_field_that_may_not_be_null_and_writes_nothing(api):
    everything_null = {field.api: None for field in CONTACT_FIELDS}

    response = api.post(BULK, _body(everything_null), format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {(e["index"], e["field"], e["message"]) for e in errors} == {
        (0, name, "may not be null") for name in ("collectedAt", "owner", "source", "vars", "language")
    }
    assert _nothing_written()


def test_null_in_every_text_field_stores_a_contact_with_those_fields_empty(api):
    texts = {field.api: None for field in CONTACT_FIELDS if field.kind in ("text", "url", "linkedin")}

    response = api.post(BULK, _body({**texts, "email": "nulls@example.test"}), format="json")

    assert response.status_code == 202
    bulk_job_process(job_id=response.json()["uuid"])
    contact = Contact.objects.get()
    assert contact.email == "nulls@example.test"
    assert all(getattr(contact, f.attr) is None for f in CONTACT_FIELDS if f.api in texts)


def test_a_linkedin_url_too_long_in_bytes_for_its_index_is_refused_and_the_longest_one_stored(api):
    # The key drops the scheme: "www.linkedin.com/in/" (20 bytes) and 676 characters of 3.
    longest = "https://www.linkedin.com/in/" + "名" * 676  # its key: 2,048 bytes
    too_long = longest + "a"

    refused = api.post(BULK, _body({"linkedinUrl": too_long}), format="json")
    accepted = api.post(BULK, _body({"linkedinUrl": longest}), format="json")
    bulk_job_process(job_id=accepted.json()["uuid"])

    assert refused.status_code == 400
    assert refused.json()["errors"] == [{"index": 0, "field": "linkedinUrl", "message": "must be at most 2048 bytes in UTF-8"}]
    assert BulkJob.objects.get(pk=accepted.json()["uuid"]).created == 1
    assert Contact.objects.get().linkedin_url == longest
