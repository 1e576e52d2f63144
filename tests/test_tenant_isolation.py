"""Tenant isolation: an account never reads, counts or writes into another account's lists,
contacts, jobs or users; another account's id answers exactly like an unknown one."""

import uuid
from dataclasses import dataclass

import pytest

from accounts.models import Account, User
from contacts.models import BulkJob, Contact
from contacts.services import bulk_job_process
from lists.models import ContactList
from tests import factories


@dataclass
class Tenant:
    account: Account
    user: User
    api: object
    contact_list: ContactList
    contact: Contact
    job_id: str


def _tenant(name: str) -> Tenant:
    account = factories.account_make(name)
    user = factories.user_make(account, f"owner@{name}.test")
    api = factories.api_client_make(user)
    contact_list = factories.list_make(account, "Leads")  # the same name in both accounts
    contact = factories.contact_make(
        account, contact_list, user,
        email="shared@example.test", linkedin_url="https://www.linkedin.com/in/shared",
    )
    accepted = api.post(
        "/api/v1/contacts/bulk",
        {"list": {"id": str(contact_list.pk)}, "contacts": [{"email": f"job@{name}.test"}]},
        format="json",
    )
    assert accepted.status_code == 202, accepted.content
    bulk_job_process(job_id=accepted.json()["uuid"])
    return Tenant(account, user, api, contact_list, contact, accepted.json()["uuid"])


@pytest.fixture
def mine(db):
    return _tenant(f"mine-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def theirs(db):
    return _tenant(f"theirs-{uuid.uuid4().hex[:6]}")


def _detail_paths(tenant: Tenant) -> list[str]:
    return [
        f"/api/v1/lists/{tenant.contact_list.pk}",
        f"/api/v1/contacts/{tenant.contact.pk}",
        f"/api/v1/contacts/bulk/{tenant.job_id}",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("which", [0, 1, 2], ids=["list", "contact", "bulk-job"])
def test_another_accounts_id_answers_404_exactly_like_an_unknown_id(mine, theirs, which):
    theirs_path = _detail_paths(theirs)[which]
    unknown_path = theirs_path.rsplit("/", 1)[0] + f"/{uuid.uuid4()}"

    own = mine.api.get(_detail_paths(mine)[which])
    foreign = mine.api.get(theirs_path)
    unknown = mine.api.get(unknown_path)

    assert own.status_code == 200
    assert foreign.status_code == 404
    assert foreign.json() == unknown.json()
    assert list(foreign.json()) == ["errors"] and foreign.json()["errors"]


@pytest.mark.django_db
def test_list_index_shows_only_the_callers_lists(mine, theirs):
    body = mine.api.get("/api/v1/lists").json()

    assert [(r["id"], r["contactCount"]) for r in body["results"]] == [(str(mine.contact_list.pk), 2)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        {},
        {"email": "shared@example.test"},
        {"linkedinUrl": "https://www.linkedin.com/in/shared"},
    ],
    ids=["all", "email", "linkedinUrl"],
)
def test_contact_index_shows_only_the_callers_contacts(mine, theirs, query):
    body = mine.api.get("/api/v1/contacts", query).json()

    returned = {c["id"] for c in body["results"]}
    assert returned
    assert returned <= set(map(str, Contact.objects.filter(account=mine.account).values_list("pk", flat=True)))


@pytest.mark.django_db
def test_contact_index_filtered_by_another_accounts_list_answers_404_as_an_unknown_one(mine, theirs):
    by_list = mine.api.get("/api/v1/contacts", {"list": str(theirs.contact_list.pk)})
    by_unknown_list = mine.api.get("/api/v1/contacts", {"list": str(uuid.uuid4())})

    assert by_list.status_code == 404
    assert by_list.json() == by_unknown_list.json()


@pytest.mark.django_db
def test_contact_index_filtered_by_another_accounts_owner_is_empty(mine, theirs):
    by_owner = mine.api.get("/api/v1/contacts", {"owner": theirs.user.email})

    assert by_owner.status_code == 200 and by_owner.json()["results"] == []


@pytest.mark.django_db
def test_quotas_count_only_the_callers_account_and_user(mine, theirs):
    body = mine.api.get("/api/v1/quotas").json()

    assert body["total"]["used"] == Contact.objects.filter(account=mine.account).count() == 2


@pytest.mark.django_db
def test_bulk_with_another_accounts_list_id_answers_400_like_an_unknown_id(mine, theirs):
    def post(list_id: str):
        return mine.api.post(
            "/api/v1/contacts/bulk",
            {"list": {"id": list_id}, "contacts": [{"email": "intruder@example.test"}]},
            format="json",
        )

    foreign, unknown = post(str(theirs.contact_list.pk)), post(str(uuid.uuid4()))

    assert foreign.status_code == 400
    assert foreign.json() == unknown.json()
    assert [e["field"] for e in foreign.json()["errors"]] == ["list"]
    assert not Contact.objects.filter(email="intruder@example.test").exists()
    assert BulkJob.objects.filter(list=theirs.contact_list).count() == 1


@pytest.mark.django_db
def test_bulk_with_another_accounts_user_as_owner_answers_400_like_an_unknown_email(mine, theirs):
    def post(owner: str):
        return mine.api.post(
            "/api/v1/contacts/bulk",
            {
                "list": {"name": "Leads"},
                "contacts": [{"email": "new@example.test"}, {"email": "x@example.test", "owner": owner}],
            },
            format="json",
        )

    foreign, unknown = post(theirs.user.email), post("nobody@example.test")

    assert foreign.status_code == 400
    assert foreign.json() == unknown.json()
    assert [(e["index"], e["field"]) for e in foreign.json()["errors"]] == [(1, "owner")]
    assert not Contact.objects.filter(email__in=["new@example.test", "x@example.test"]).exists()
    assert BulkJob.objects.filter(account=mine.account).count() == 1


@pytest.mark.django_db
def test_bulk_by_name_uses_the_callers_list_of_that_name_and_leaves_the_other_untouched(mine, theirs):
    accepted = mine.api.post(
        "/api/v1/contacts/bulk?moveToList=true",
        {"list": {"name": "Leads"}, "contacts": [{"email": "shared@example.test", "firstName": "Mine"}]},
        format="json",
    ).json()
    bulk_job_process(job_id=accepted["uuid"])

    assert accepted["listId"] == str(mine.contact_list.pk)
    theirs.contact.refresh_from_db()
    assert theirs.contact.first_name is None and theirs.contact.list_id == theirs.contact_list.pk
    mine.contact.refresh_from_db()
    assert mine.contact.first_name == "Mine"


# -- Tokens: scope, expiry, revocation, malformed headers ------------------------------------

WRITES = [
    ("/api/v1/lists", {"name": "New"}),
    ("/api/v1/contacts/bulk", {"list": {"name": "New"}, "contacts": [{"email": "n@example.test"}]}),
]
READS = ["/api/v1/lists", "/api/v1/contacts", "/api/v1/quotas"]


@pytest.mark.django_db
@pytest.mark.parametrize("path, body", WRITES, ids=["lists", "bulk"])
def test_a_read_only_token_is_refused_on_every_write_and_writes_nothing(mine, path, body):
    reader = factories.api_client_make(mine.user, scope="contacts:read")
    lists_before, jobs_before = ContactList.objects.count(), BulkJob.objects.count()

    response = reader.post(path, body, format="json")

    assert response.status_code == 403
    assert response.json() == {"errors": [{"message": "This token lacks the contacts:write scope."}]}
    assert (ContactList.objects.count(), BulkJob.objects.count()) == (lists_before, jobs_before)


@pytest.mark.django_db
def test_a_revoked_token_answers_401_everywhere(mine):
    from oauth2_provider.models import get_access_token_model

    client = factories.api_client_make(mine.user)
    assert client.get("/api/v1/lists").status_code == 200
    get_access_token_model().objects.filter(application__user=mine.user).latest("id").revoke()

    answers = [client.get(path) for path in READS] + [client.post(p, b, format="json") for p, b in WRITES]

    assert {a.status_code for a in answers} == {401}
    assert all(a.json()["errors"][0]["message"] for a in answers)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not-a-token", "bearer\tx y z", "Token abc"],
)
def test_malformed_or_unknown_authorization_answers_401_with_the_error_shape(header):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get("/api/v1/lists")

    assert response.status_code == 401
    assert set(response.json()) == {"errors"}


@pytest.mark.django_db
@pytest.mark.parametrize("foreign", ["list", "owner", "both"])
def test_the_database_refuses_a_contact_whose_list_or_owner_is_another_accounts(mine, theirs, foreign):
    """Past every check of the code, the database itself keeps a contact's list and owner
    in its account (PostgreSQL's key triggers, contacts migration 0018)."""
    from django.db import IntegrityError, connection, transaction

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        factories.contact_make(mine.account, mine.contact_list, mine.user, email="fine@mine.test")
        with pytest.raises(IntegrityError), transaction.atomic():
            factories.contact_make(
                mine.account,
                theirs.contact_list if foreign in ("list", "both") else mine.contact_list,
                theirs.user if foreign in ("owner", "both") else mine.user,
                email="leak@mine.test",
            )
    assert not Contact.objects.filter(email="leak@mine.test").exists()
