"""Lists: GET and POST /api/v1/lists, GET /api/v1/lists/{id} with its contact count."""

import uuid

import pytest

from rest_framework.test import APIClient

from lists.models import ContactList
from tests import factories

LISTS = "/api/v1/lists"


def _shape(response_json: dict) -> set:
    return set(response_json)


@pytest.mark.django_db
def test_created_list_answers_201_with_its_fields_and_reads_back(api, account):
    created = api.post(LISTS, {"name": "Leads"}, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert _shape(body) == {"id", "name", "contactCount", "createdAt"}
    assert body["name"] == "Leads" and body["contactCount"] == 0
    stored = ContactList.objects.get(pk=body["id"])
    assert stored.account_id == account.pk
    assert api.get(f"{LISTS}/{body['id']}").json() == body


@pytest.mark.django_db
def test_duplicate_list_name_answers_400_on_field_name_and_creates_nothing(api, account):
    factories.list_make(account, "Leads")

    response = api.post(LISTS, {"name": "Leads"}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert len(errors) == 1
    assert errors[0]["field"] == "name" and errors[0]["message"]
    assert set(errors[0]) == {"field", "message"}
    assert ContactList.objects.filter(account=account, name="Leads").count() == 1


@pytest.mark.django_db
def test_list_name_is_kept_exactly_so_the_bulk_route_finds_the_list_by_it(api, account):
    created = api.post(LISTS, {"name": "  Leads 2024 "}, format="json").json()

    accepted = api.post(
        "/api/v1/contacts/bulk",
        {"list": {"name": "  Leads 2024 "}, "contacts": [{"email": "a@example.test"}]},
        format="json",
    )

    assert created["name"] == "  Leads 2024 "
    assert accepted.json()["listId"] == created["id"]
    assert ContactList.objects.filter(account=account).count() == 1


@pytest.mark.django_db
def test_same_list_name_is_free_in_another_account(api):
    other = factories.account_make()
    factories.list_make(other, "Leads")

    assert api.post(LISTS, {"name": "Leads"}, format="json").status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": None}, {"name": "x" * 201}, {"name": "a\x00b"}])
def test_invalid_list_name_answers_400_on_field_name(api, account, body):
    response = api.post(LISTS, body, format="json")

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
    assert not ContactList.objects.filter(account=account).exists()


@pytest.mark.django_db
def test_list_creation_needs_the_write_scope(user):
    response = factories.api_client_make(user, scope="contacts:read").post(LISTS, {"name": "x"}, format="json")

    assert response.status_code == 403
    assert not ContactList.objects.exists()


@pytest.mark.django_db
def test_lists_are_listed_oldest_first_with_their_contact_counts(api, account, user):
    first = factories.list_make(account, "first")
    second = factories.list_make(account, "second")
    empty = factories.list_make(account, "empty")
    for i in range(3):
        factories.contact_make(account, first, user, email=f"f{i}@example.test")
    factories.contact_make(account, second, user, email="s@example.test")

    response = api.get(LISTS)

    assert response.status_code == 200
    body = response.json()
    assert _shape(body) == {"next", "previous", "results"}
    assert [(r["id"], r["name"], r["contactCount"]) for r in body["results"]] == [
        (str(first.pk), "first", 3),
        (str(second.pk), "second", 1),
        (str(empty.pk), "empty", 0),
    ]
    assert body["next"] is None


@pytest.mark.django_db
def test_list_pages_follow_next_links_to_every_list_once(api, account):
    made = [factories.list_make(account, f"l{i:03}") for i in range(105)]

    seen, url = [], LISTS
    while url:
        page = api.get(url).json()
        seen += [r["id"] for r in page["results"]]
        url = page["next"]

    assert seen == [str(lst.pk) for lst in made]


@pytest.mark.django_db
@pytest.mark.parametrize("cursor", ["not-base64!", "cD1ub3QtYS1kYXRl"])
def test_list_page_with_a_malformed_or_tampered_cursor_answers_400_on_field_cursor(api, account, cursor):
    factories.list_make(account)

    response = api.get(LISTS, {"cursor": cursor})

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


@pytest.mark.django_db
def test_list_detail_counts_only_the_contacts_in_that_list(api, account, user):
    target = factories.list_make(account, "target")
    other = factories.list_make(account, "other")
    for i in range(2):
        factories.contact_make(account, target, user, email=f"t{i}@example.test")
    factories.contact_make(account, other, user, email="o@example.test")

    response = api.get(f"{LISTS}/{target.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(target.pk),
        "name": "target",
        "contactCount": 2,
        "createdAt": response.json()["createdAt"],
    }


@pytest.mark.django_db
def test_list_detail_counts_contacts_written_by_a_bulk_request(api, account):
    from contacts.services import bulk_job_process

    target = factories.list_make(account, "target")
    accepted = api.post(
        "/api/v1/contacts/bulk",
        {"list": {"id": str(target.pk)}, "contacts": [{"email": "a@example.test"}, {"email": "b@example.test"}]},
        format="json",
    ).json()
    bulk_job_process(job_id=accepted["uuid"])

    assert api.get(f"{LISTS}/{target.pk}").json()["contactCount"] == 2


@pytest.mark.django_db
@pytest.mark.parametrize("list_id", [uuid.uuid4(), "not-a-uuid"])
def test_unknown_list_id_answers_404_with_errors(api, list_id):
    response = api.get(f"{LISTS}/{list_id}")

    assert response.status_code == 404
    assert list(response.json()) == ["errors"]
    assert response.json()["errors"][0]["message"]


@pytest.mark.django_db
def test_list_create_with_invalid_json_answers_400_on_field_body(api, account):
    response = api.post("/api/v1/lists", data="{not json", content_type="application/json")

    assert response.status_code == 400
    [problem] = response.json()["errors"]
    assert problem["field"] == "body" and "JSON" in problem["message"]
    assert not ContactList.objects.filter(account=account).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "raw, message",
    [
        ('{"name": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON parse error - the body is nested too deeply"),
        ('{"name": 1' + "0" * 5000 + "}", "JSON parse error - a number has more than 4,300 digits"),
    ],
    ids=["nested too deeply", "a number of 5,001 digits"],
)
def test_list_create_with_json_python_cannot_read_answers_400_saying_why(api, account, raw, message):
    response = api.generic("POST", LISTS, raw, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"errors": [{"field": "body", "message": message}]}
    assert not ContactList.objects.filter(account=account).exists()


@pytest.mark.django_db
def test_list_create_without_token_answers_401_before_looking_at_the_body(account):
    response = APIClient().post(LISTS, data="name=Leads", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 401
    assert not ContactList.objects.filter(account=account).exists()


@pytest.mark.django_db
def test_list_create_not_sent_as_json_answers_415_on_field_content_type(api, account):
    response = api.post(LISTS, data="name=Leads", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert response.json() == {
        "errors": [{"field": "Content-Type", "message": 'must be application/json, not "application/x-www-form-urlencoded"'}]
    }
    assert not ContactList.objects.filter(account=account).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("name", [0, True, ["Leads"]])
def test_list_name_that_is_not_a_string_answers_400(api, account, name):
    # Found by schema fuzzing: DRF's CharField turned 0 into "0".
    response = api.post("/api/v1/lists", {"name": name}, format="json")

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
    assert not ContactList.objects.filter(account=account).exists()


@pytest.mark.django_db
def test_list_create_with_an_unknown_field_answers_400_naming_it_and_creates_nothing(api, account):
    response = api.post(LISTS, {"name": "Leads", "colour": "red"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"errors": [{"field": "colour", "message": "is not a known field"}]}
    assert not ContactList.objects.filter(account=account).exists()


@pytest.mark.django_db
def test_list_page_with_an_unknown_query_parameter_answers_400_naming_it(api, account):
    response = api.get(LISTS, {"pageSize": "1"})

    assert response.status_code == 400
    assert response.json() == {"errors": [{"field": "pageSize", "message": "is not a known query parameter"}]}
