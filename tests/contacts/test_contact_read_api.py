"""Reading contacts back: GET /api/v1/contacts (filters, cursor pages), GET
/api/v1/contacts/{id}, and the bulk job's status GET /api/v1/contacts/bulk/{uuid}."""

import uuid
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from contacts.fields import CONTACT_FIELDS
from contacts.models import Contact
from contacts.services import bulk_job_process
from tests import factories

CONTACTS = "/api/v1/contacts"
BULK = "/api/v1/contacts/bulk"

EVERY_FIELD = {
    "collectedAt": "2024-03-05T10:20:30Z",
    "linkedinUrl": "https://www.linkedin.com/in/ada-lovelace",
    "source": "import",
    "vars": {"met": "2024-03", "score": 7, "vip": True, "ratio": 0.5},
    "email": "ada@example.test",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "companyIndustry": "Computing",
    "companyName": "Analytical Engines",
    "companySize": "11-50",
    "companyDescription": "Engines that compute",
    "companyWebsite": "https://engines.example.test",
    "city": "London",
    "country": "GB",
    "zipcode": "W1",
    "language": "fr",
    "mobilePhone": "+44 7000 000000",
    "phone": "+44 20 0000 0000",
    "pictureUrl": "https://pictures.example.test/ada.png",
    "jobTitle": "Analyst",
}


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["results"]]


@pytest.fixture
def lists(account):
    return factories.list_make(account, "one"), factories.list_make(account, "two")


# -- Filters ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_contacts_filter_by_list(api, account, user, lists):
    one, two = lists
    a = factories.contact_make(account, one, user, email="a@example.test")
    factories.contact_make(account, two, user, email="b@example.test")
    c = factories.contact_make(account, one, user, email="c@example.test")

    assert _ids(api.get(CONTACTS, {"list": str(one.pk)})) == [str(a.pk), str(c.pk)]
    unknown = api.get(CONTACTS, {"list": str(uuid.uuid4())})
    assert unknown.status_code == 404
    assert unknown.json() == {"errors": [{"message": "No list of your account has the id given as `list`."}]}


@pytest.mark.django_db
def test_contacts_filter_by_email_ignores_case(api, account, user, lists):
    ada = factories.contact_make(account, lists[0], user, email="Ada@Example.test")
    factories.contact_make(account, lists[0], user, email="bob@example.test")

    assert _ids(api.get(CONTACTS, {"email": "ADA@example.TEST"})) == [str(ada.pk)]
    assert _ids(api.get(CONTACTS, {"email": "ada@example.test"})) == [str(ada.pk)]
    assert _ids(api.get(CONTACTS, {"email": "nobody@example.test"})) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "https://www.linkedin.com/in/grace",
        "http://WWW.LinkedIn.COM/in/grace/",
        "https://www.linkedin.com/in/grace?trk=profile#about",
    ],
)
def test_contacts_filter_by_linkedin_url_normalised(api, account, user, lists, query):
    grace = factories.contact_make(account, lists[0], user, linkedin_url="https://www.linkedin.com/in/grace/")
    factories.contact_make(account, lists[0], user, linkedin_url="https://www.linkedin.com/in/grace-other")

    assert _ids(api.get(CONTACTS, {"linkedinUrl": query})) == [str(grace.pk)]


@pytest.mark.django_db
def test_contacts_filter_by_owner_email(api, account, user, lists):
    colleague = factories.user_make(account, "Colleague@Example.test")
    mine = factories.contact_make(account, lists[0], user, email="mine@example.test")
    theirs = factories.contact_make(account, lists[0], colleague, email="theirs@example.test")

    assert _ids(api.get(CONTACTS, {"owner": "colleague@example.test"})) == [str(theirs.pk)]
    assert _ids(api.get(CONTACTS, {"owner": user.email})) == [str(mine.pk)]
    assert _ids(api.get(CONTACTS, {"owner": "nobody@example.test"})) == []


@pytest.mark.django_db
def test_contacts_filters_combine(api, account, user, lists):
    one, two = lists
    colleague = factories.user_make(account)
    match = factories.contact_make(account, one, colleague, email="m@example.test")
    factories.contact_make(account, two, colleague, email="x@example.test")
    factories.contact_make(account, one, user, email="y@example.test")

    response = api.get(CONTACTS, {"list": str(one.pk), "owner": colleague.email, "email": "M@example.test"})

    assert _ids(response) == [str(match.pk)]
    assert _ids(api.get(CONTACTS, {"list": str(two.pk), "email": "m@example.test"})) == []


@pytest.mark.django_db
def test_contacts_filter_by_malformed_list_id_answers_400_on_field_list(api):
    response = api.get(CONTACTS, {"list": "not-a-uuid"})

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["list"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["http://[linkedin.com/in/x", "https://www.linkedin.com:99999/in/x", "https://www.linkedin.com:abc/in/x"],
)
def test_contacts_filter_by_a_linkedin_url_no_contact_can_have_finds_none(api, url):
    # A filter is a search: what no contact can hold matches nothing (the schema says "string").
    response = api.get(CONTACTS, {"linkedinUrl": url})

    assert response.status_code == 200
    assert response.json()["results"] == []


# -- Cursor pages ----------------------------------------------------------------------------


def _walk(api, url: str) -> list[list[str]]:
    pages = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        assert set(response.json()) == {"next", "previous", "results"}
        pages.append([c["id"] for c in response.json()["results"]])
        url = response.json()["next"]
    return pages


@pytest.mark.django_db
def test_contact_pages_follow_next_links_oldest_first(api, account, user, lists):
    made = [factories.contact_make(account, lists[0], user, email=f"p{i}@example.test") for i in range(5)]

    pages = _walk(api, f"{CONTACTS}?pageSize=2")

    assert pages == [[str(c.pk) for c in made[i : i + 2]] for i in (0, 2, 4)]


@pytest.mark.django_db
def test_contact_pages_keep_their_filters(api, account, user, lists):
    one, two = lists
    in_one = [factories.contact_make(account, one, user, email=f"o{i}@example.test") for i in range(3)]
    factories.contact_make(account, two, user, email="t@example.test")

    pages = _walk(api, f"{CONTACTS}?list={one.pk}&pageSize=2")

    assert [pk for page in pages for pk in page] == [str(c.pk) for c in in_one]


@pytest.mark.django_db
def test_contact_pages_list_contacts_created_in_the_same_instant_once_each(api, account, user, lists):
    made = [factories.contact_make(account, lists[0], user, email=f"s{i}@example.test") for i in range(7)]
    Contact.objects.filter(account=account).update(created_at=timezone.now())

    pages = _walk(api, f"{CONTACTS}?pageSize=3")

    seen = [pk for page in pages for pk in page]
    assert sorted(seen) == sorted(str(c.pk) for c in made)
    assert [len(page) for page in pages] == [3, 3, 1]


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["not-base64!", "cD1ub3QtYS1kYXRl", "cD0yMDI0LTAxLTAxIDAwOjAwOjAwKzAwOjAw"])
def test_contact_page_with_a_malformed_or_tampered_cursor_answers_400_on_field_cursor(
    api, account, user, lists, cursor
):
    # The last two decode to "p=not-a-date" and to a position whose "+" became a space.
    factories.contact_make(account, lists[0], user, email="a@example.test")

    response = api.get(CONTACTS, {"cursor": cursor})

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


@pytest.mark.django_db
def test_contacts_default_page_holds_100(api, account, user, lists):
    made = [
        Contact(
            account=account, list=lists[0], owner=user, email=f"d{i}@example.test",
            email_key=f"d{i}@example.test", collected_at=timezone.now(),
        )
        for i in range(101)
    ]
    Contact.objects.bulk_create(made)

    first = api.get(CONTACTS).json()

    assert len(first["results"]) == 100
    assert len(api.get(first["next"]).json()["results"]) == 1


# -- One contact ------------------------------------------------------------------------------


def _contract_fields() -> set[str]:
    return {f.api for f in CONTACT_FIELDS} | {"id", "listId", "createdAt", "updatedAt"}


@pytest.mark.django_db
def test_contact_reads_back_every_contract_field_and_its_owners_email(api, account, user, lists):
    colleague = factories.user_make(account, "owner@example.test")
    contact = factories.contact_make(
        account, lists[1], colleague,
        collected_at=datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC),
        linkedin_url=EVERY_FIELD["linkedinUrl"], source="import", vars=EVERY_FIELD["vars"],
        email="ada@example.test", first_name="Ada", last_name="Lovelace",
        company_industry="Computing", company_name="Analytical Engines", company_size="11-50",
        company_description="Engines that compute", company_website=EVERY_FIELD["companyWebsite"],
        city="London", country="GB", zipcode="W1", language="fr",
        mobile_phone=EVERY_FIELD["mobilePhone"], phone=EVERY_FIELD["phone"],
        picture_url=EVERY_FIELD["pictureUrl"], job_title="Analyst",
    )

    response = api.get(f"{CONTACTS}/{contact.pk}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == _contract_fields()
    expected = {**EVERY_FIELD, "owner": "owner@example.test"}
    assert {k: body[k] for k in expected if k != "collectedAt"} == {
        k: v for k, v in expected.items() if k != "collectedAt"
    }
    assert datetime.fromisoformat(body["collectedAt"]) == contact.collected_at
    assert body["id"] == str(contact.pk) and body["listId"] == str(lists[1].pk)
    assert datetime.fromisoformat(body["createdAt"]) == contact.created_at
    assert datetime.fromisoformat(body["updatedAt"]) == contact.updated_at


@pytest.mark.django_db
def test_contact_written_by_a_bulk_request_reads_back_with_the_names_it_was_sent_with(api, user):
    accepted = api.post(BULK, {"list": {"name": "round-trip"}, "contacts": [EVERY_FIELD]}, format="json")
    assert accepted.status_code == 202, accepted.content
    bulk_job_process(job_id=accepted.json()["uuid"])

    found = api.get(CONTACTS, {"email": EVERY_FIELD["email"]}).json()["results"]
    assert len(found) == 1
    body = api.get(f"{CONTACTS}/{found[0]['id']}").json()

    assert body == found[0]
    assert set(body) == _contract_fields()
    assert {k: body[k] for k in EVERY_FIELD if k != "collectedAt"} == {
        k: v for k, v in EVERY_FIELD.items() if k != "collectedAt"
    }
    assert datetime.fromisoformat(body["collectedAt"]) == datetime(2024, 3, 5, 10, 20, 30, tzinfo=UTC)
    assert body["owner"] == user.email
    assert body["listId"] == accepted.json()["listId"]


@pytest.mark.django_db
def test_contact_reads_back_unset_fields_as_null_and_defaults(api, account, user, lists):
    contact = factories.contact_make(account, lists[0], user, email="bare@example.test")

    body = api.get(f"{CONTACTS}/{contact.pk}").json()

    assert body["linkedinUrl"] is None and body["firstName"] is None and body["jobTitle"] is None
    assert body["source"] == "manual" and body["language"] == "en" and body["vars"] == {}
    assert body["owner"] == user.email


@pytest.mark.django_db
@pytest.mark.parametrize("contact_id", [uuid.uuid4(), "not-a-uuid"])
def test_unknown_contact_id_answers_404_with_errors(api, contact_id):
    response = api.get(f"{CONTACTS}/{contact_id}")

    assert response.status_code == 404
    assert list(response.json()) == ["errors"]


# -- The bulk job's status --------------------------------------------------------------------

JOB_FIELDS = {"uuid", "listId", "total", "processed", "created", "updated", "failed", "status", "errors"}


@pytest.mark.django_db
def test_bulk_job_status_of_a_queued_job(api):
    accepted = api.post(BULK, {"list": {"name": "q"}, "contacts": [{"email": "a@example.test"}]}, format="json").json()

    response = api.get(f"{BULK}/{accepted['uuid']}")

    assert response.status_code == 200
    assert response.json() == {
        "uuid": accepted["uuid"],
        "listId": accepted["listId"],
        "total": 1,
        "processed": 0,
        "created": 0,
        "updated": 0,
        "failed": 0,
        "status": "queued",
        "errors": [],
    }
    assert accepted["statusUrl"] == f"http://testserver{BULK}/{accepted['uuid']}"


@pytest.mark.django_db
def test_bulk_job_status_of_a_finished_job_counts_and_lists_row_failures(api, account, user, lists):
    factories.contact_make(account, lists[0], user, email="a@example.test")
    factories.contact_make(account, lists[0], user, linkedin_url="https://www.linkedin.com/in/b")
    contacts = [
        {"email": "a@example.test", "firstName": "A"},
        {"email": "new@example.test"},
        # Matched by email, its LinkedIn URL belongs to another contact: this row fails.
        {"email": "a@example.test", "linkedinUrl": "https://www.linkedin.com/in/b"},
    ]
    accepted = api.post(BULK, {"list": {"name": "f"}, "contacts": contacts}, format="json").json()
    bulk_job_process(job_id=accepted["uuid"])

    body = api.get(f"{BULK}/{accepted['uuid']}").json()

    assert set(body) == JOB_FIELDS
    assert {k: body[k] for k in ("total", "processed", "created", "updated", "failed", "status")} == {
        "total": 3, "processed": 3, "created": 1, "updated": 1, "failed": 1, "status": "done",
    }
    assert len(body["errors"]) == 1
    assert body["errors"][0]["index"] == 2 and body["errors"][0]["field"] == "linkedinUrl"
    assert body["errors"][0]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("job_id", [uuid.uuid4(), "not-a-uuid"])
def test_unknown_bulk_job_answers_404_with_errors(api, job_id):
    response = api.get(f"{BULK}/{job_id}")

    assert response.status_code == 404
    assert list(response.json()) == ["errors"]


@pytest.mark.django_db
def test_contacts_misspelt_filter_answers_400_naming_it_rather_than_every_contact(api, account, user, lists):
    response = api.get("/api/v1/contacts", {"emial": "a@example.test"})

    assert response.status_code == 400
    assert response.json() == {"errors": [{"field": "emial", "message": "is not a known query parameter"}]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, field",
    [({"owner": ""}, "owner"), ({"email": ""}, "email"), ({"pageSize": "null"}, "pageSize"), ({"pageSize": "0"}, "pageSize"),
     ({"pageSize": "1001"}, "pageSize")],
)
def test_contacts_empty_filters_and_bad_page_sizes_answer_400_naming_them(api, query, field):
    # Found by schema fuzzing: an empty filter used to be read as no filter at all.
    response = api.get(CONTACTS, query)

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
