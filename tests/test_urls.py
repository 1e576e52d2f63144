"""Paths that no URL matches: a JSON 404 in the API's error shape under /api/, Django's page elsewhere."""

import pytest

from contacts_project.exceptions import NOT_FOUND


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/lists/", "/api/v1/contacts/bulk/", "/api/"])
def test_unknown_api_path_answers_a_json_404_in_the_error_shape(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == NOT_FOUND


def test_unknown_path_outside_the_api_answers_djangos_page(client):
    response = client.get("/nope")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
