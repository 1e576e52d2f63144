"""A refused bulk request names its problems in one 400: the query's, the Idempotency-Key's
and the body's together, then, for a well-formed request, the list's and the owners'
together (those need the account's data). Nothing is written."""

import json

import pytest

from contacts.models import BulkJob, Contact
from contacts.services import UNKNOWN_LIST
from lists.models import ContactList
from tests import factories

pytestmark = pytest.mark.django_db

UNKNOWN_OWNER = "no user of your account has this email"


def _refused(api, body: dict, *, query: str = "", headers: dict | None = None) -> list[dict]:
    before = (Contact.objects.count(), ContactList.objects.count(), BulkJob.objects.count())
    response = api.post(
        f"/api/v1/contacts/bulk{query}", json.dumps(body), content_type="application/json", headers=headers or {}
    )
    assert response.status_code == 400, response.content
    assert (Contact.objects.count(), ContactList.objects.count(), BulkJob.objects.count()) == before
    return response.json()["errors"]


def test_the_query_the_idempotency_key_and_the_body_are_named_in_one_answer(api):
    body = {"list": {"name": "Leads"}, "contacts": [{"email": "ada@example.test"}, {"email": "not-an-email"}]}
    assert _refused(api, body, query="?moveToList=maybe&dryRun=1", headers={"Idempotency-Key": "é"}) == [
        {"field": "dryRun", "message": "is not a known query parameter"},
        {"field": "moveToList", "message": "must be true, false, 1 or 0"},
        {"field": "Idempotency-Key", "message": "must be 1 to 255 printable ASCII characters"},
        {"index": 1, "field": "email", "message": "must be a valid email address"},
    ]


def test_an_unknown_list_and_unknown_owners_are_named_in_one_answer(api, account):
    colleague = factories.user_make(account)
    body = {
        "list": {"id": "00000000-0000-0000-0000-000000000000"},
        "contacts": [
            {"email": "ada@example.test", "owner": "nobody@example.test"},
            {"email": "grace@example.test", "owner": colleague.email},
            {"email": "linus@example.test", "owner": "nobody-either@example.test"},
        ],
    }
    assert _refused(api, body) == [
        {"field": "list", "message": UNKNOWN_LIST},
        {"index": 0, "field": "owner", "message": UNKNOWN_OWNER},
        {"index": 2, "field": "owner", "message": UNKNOWN_OWNER},
    ]
