"""Schema fuzzing: schemathesis generates requests from our own OpenAPI document and sends
them to the live service; no answer may be a 5xx or stray from the documented schema."""

import httpx
import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)

schema = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))


@pytest.fixture
def bearer(db):
    user = factories.user_make(factories.account_make())
    return {"Authorization": f"Bearer {factories.token_make(user)}"}


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_as_documented(case, live_service, bearer):
    # Every check but "schema-valid data is accepted": a request can fit the schema and still
    # be refused for what only the data can say (an unknown list id, a cursor that was never
    # issued, an owner who is not a user of the account), with a documented 400.
    case.call_and_validate(
        base_url=live_service.base_url, headers=bearer, excluded_checks=[positive_data_acceptance]
    )


def test_filters_at_their_maximum_length_in_four_byte_characters_reach_the_api(live_service, bearer):
    """Found by the fuzzer: percent-encoded, such a query is ~35 KiB, past the HTTP server's
    16 KiB default, which answered a bare 400 without a body."""
    query = {"email": "\U0001F600" * 254, "linkedinUrl": "\U0001F600" * 2048}
    with httpx.Client(base_url=live_service.base_url, headers=bearer, timeout=30) as http:
        response = http.get("/api/v1/contacts", params=query)

    assert response.status_code == 200
    assert response.json()["results"] == []
