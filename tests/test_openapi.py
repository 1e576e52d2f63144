"""The OpenAPI document and the Swagger UI, served without any outside asset."""

import re

import pytest

from contacts.fields import CONTACT_FIELDS
from contacts.languages import ISO_639_1


@pytest.fixture
def schema(client, db):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_schema_documents_every_path_of_the_contract(schema):
    assert set(schema["paths"]) >= {
        "/api/v1/contacts/bulk",
        "/api/v1/contacts/bulk/{job_id}",
        "/api/v1/contacts",
        "/api/v1/contacts/{contact_id}",
        "/api/v1/lists",
        "/api/v1/lists/{list_id}",
        "/api/v1/quotas",
    }


def test_bulk_operation_documents_body_flags_errors_402_and_events(schema):
    operation = schema["paths"]["/api/v1/contacts/bulk"]["post"]
    components = schema["components"]["schemas"]
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = components[body_ref.rsplit("/", 1)[1]]
    assert body["properties"]["contacts"]["maxItems"] == 10000
    contact = components["ContactInput"]
    assert set(contact["properties"]) == {field.api for field in CONTACT_FIELDS}
    assert {p["name"] for p in operation["parameters"] if p["in"] == "query"} == {"moveToList", "replaceOwner"}
    assert {p["name"] for p in operation["parameters"] if p["in"] == "header"} == {"Idempotency-Key"}
    assert {"202", "400", "401", "402", "403", "413", "422"} <= set(operation["responses"])
    quota_ref = operation["responses"]["402"]["content"]["application/json"]["schema"]["$ref"]
    quota = components[quota_ref.rsplit("/", 1)[1]]
    reason_ref = quota["properties"]["reason"]["$ref"].rsplit("/", 1)[1]
    assert set(components[reason_ref]["enum"]) == {"contact_connect_quotas", "contact_total_quotas"}
    for event in ("contact_bulk_create_starting", "contact_bulk_create_running", "contact_bulk_create_ending"):
        assert event in operation["description"]


def test_contact_language_is_documented_as_a_string_of_the_iso_639_1_codes(schema):
    components = schema["components"]["schemas"]
    [ref] = components["ContactInput"]["properties"]["language"]["allOf"]
    language = components[ref["$ref"].rsplit("/", 1)[1]]
    assert language["type"] == "string" and set(language["enum"]) == ISO_639_1


def test_write_operations_document_the_415_of_a_body_not_sent_as_json(schema):
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    writes = {(path, method) for path, method, op in operations if "415" in op["responses"]}
    assert writes == {("/api/v1/contacts/bulk", "post"), ("/api/v1/lists", "post")}


def test_schema_declares_oauth2_with_both_scopes(schema):
    oauth = schema["components"]["securitySchemes"]["oauth2"]
    assert set(oauth["flows"]) == {"clientCredentials", "authorizationCode"}
    assert set(oauth["flows"]["clientCredentials"]["scopes"]) == {"contacts:read", "contacts:write"}


def test_swagger_ui_loads_its_assets_from_this_service(client, db):
    page = client.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets and all(asset.startswith("/static/") for asset in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_schema_is_a_valid_openapi_document(schema):
    from drf_spectacular.validation import validate_schema

    validate_schema(schema)  # raises on any violation of the OpenAPI 3.1 meta-schema
    assert schema["openapi"].startswith("3.1")
