"""Schema fuzzing: schemathesis generates requests from our own OpenAPI document and sends
them to the live service; no answer may be a 5xx or stray from the documented schema."""

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
