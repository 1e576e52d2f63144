"""Security settings, CORS and rate limits."""

import os
import secrets
import subprocess
import sys

import pytest

from tests import factories
from tests.conftest import ROOT


def _check_deploy(**env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG", "HTTPS")}
    environment.update(DJANGO_SETTINGS_MODULE="contacts_project.settings.base", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=environment, capture_output=True, text=True,
    )


def test_production_settings_pass_the_deploy_check():
    result = _check_deploy(HTTPS="true", SECRET_KEY=secrets.token_urlsafe(50), DEBUG="false")

    assert result.returncode == 0, result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _check_deploy(HTTPS="true")

    assert result.returncode != 0 and "SECRET_KEY must be set when HTTPS=true" in result.stderr


@pytest.mark.django_db
def test_cors_allows_configured_spa_origins_only(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://app.example.com"]
    preflight = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST", "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "authorization"}

    allowed = client.options("/api/v1/contacts/bulk", HTTP_ORIGIN="https://app.example.com", **preflight)
    other = client.options("/api/v1/contacts/bulk", HTTP_ORIGIN="https://evil.example", **preflight)

    assert allowed["access-control-allow-origin"] == "https://app.example.com"
    assert "authorization" in allowed["access-control-allow-headers"]
    assert "access-control-allow-origin" not in other


@pytest.mark.django_db
def test_bulk_route_is_rate_limited_per_user_with_retry_after(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api": "1000/min", "bulk": "2/day"},
    }
    account = factories.account_make()
    user = factories.user_make(account)
    first, second = factories.api_client_make(user), factories.api_client_make(user)
    colleague = factories.api_client_make(factories.user_make(account))
    body = {"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]}

    answers = [first.post("/api/v1/contacts/bulk", body, format="json") for _ in range(3)]
    other_token = second.post("/api/v1/contacts/bulk", body, format="json")
    other_user = colleague.post("/api/v1/contacts/bulk", body, format="json")

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert int(answers[2]["Retry-After"]) > 0
    assert answers[2].json()["errors"][0]["message"].startswith("Request was throttled")
    assert other_token.status_code == 429  # a new token of the same user counts with the others
    assert other_user.status_code == 202  # per user


@pytest.mark.django_db
def test_the_rest_of_the_api_is_rate_limited_too(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api": "3/day", "bulk": "100/day"}}
    api = factories.api_client_make(factories.user_make(factories.account_make()))

    statuses = [api.get("/api/v1/lists").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
