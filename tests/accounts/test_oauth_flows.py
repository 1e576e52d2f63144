"""OAuth2 and session auth of the HTTP API, end to end: a live server, a real login form,
the consent page, the token endpoint, and the API answering (or refusing) the credentials."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from realtime.events import ENDING
from tests import factories
from tests.browser import form_of, log_in
from tests.live import job_events

# A loopback redirect, as a native or local app registers it (RFC 8252); nothing listens there:
# the test reads the code from the redirect's Location like the app's listener would.
REDIRECT_URI = "http://127.0.0.1:8765/callback"
BULK = {"list": {"name": "leads"}, "contacts": [{"email": "ada@example.test"}]}


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 code challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_code(live_service, user, application, *, challenge: str, scope: str) -> str:
    """What the user's browser does: log in through the form, approve, land on the redirect."""
    state = secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": application.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    with live_service.http() as browser:
        response = browser.get("/o/authorize/", params=query)
        assert response.status_code == 302, response.text
        assert urlsplit(response.headers["location"]).path == "/accounts/login/"

        response = log_in(browser, username=user.username, password="pw", page_url=response.headers["location"])
        assert response.status_code == 302, response.text
        consent = browser.get(response.headers["location"])
        assert consent.status_code == 200, consent.text
        assert urlsplit(str(consent.url)).path == "/o/authorize/"

        action, fields = form_of(consent, "authorizationForm")
        response = browser.post(action, data={**fields, "allow": "Authorize"})
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = parse_qs(location.query)
    assert params["state"] == [state]
    return params["code"][0]


def token_request(live_service, application, secret: str, **data) -> dict:
    """POST /o/token/ as the app; a confidential app authenticates with its secret."""
    data["client_id"] = application.client_id
    if application.client_type == application.CLIENT_CONFIDENTIAL:
        data["client_secret"] = secret
    with live_service.http() as http:
        response = http.post("/o/token/", data=data)
    return {"status": response.status_code, **response.json()}


def get_lists(live_service, token: str):
    with live_service.http(token) as http:
        return http.get("/api/v1/lists")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("confidential", [False, True], ids=["public", "confidential"])
def test_authorization_code_with_pkce_gives_a_working_token_and_its_refresh_token_a_new_one(
    live_service, confidential
):
    user = factories.user_make(factories.account_make())
    factories.list_make(user.account, "mine")
    application, secret = factories.oauth_application_make(redirect_uri=REDIRECT_URI, confidential=confidential)
    verifier, challenge = pkce_pair()

    code = authorization_code(
        live_service, user, application, challenge=challenge, scope="contacts:read contacts:write"
    )
    issued = token_request(
        live_service, application, secret,
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=verifier,
    )

    assert issued["status"] == 200, issued
    assert set(issued["scope"].split()) == {"contacts:read", "contacts:write"}
    response = get_lists(live_service, issued["access_token"])
    assert response.status_code == 200, response.text
    assert [item["name"] for item in response.json()["results"]] == ["mine"]

    refreshed = token_request(
        live_service, application, secret, grant_type="refresh_token", refresh_token=issued["refresh_token"]
    )
    assert refreshed["status"] == 200, refreshed
    assert refreshed["access_token"] != issued["access_token"]
    assert get_lists(live_service, refreshed["access_token"]).status_code == 200
    # Refresh tokens rotate: the one just used is spent.
    reused = token_request(
        live_service, application, secret, grant_type="refresh_token", refresh_token=issued["refresh_token"]
    )
    assert reused["status"] == 400 and reused["error"] == "invalid_grant"


@pytest.mark.django_db(transaction=True)
def test_code_exchange_without_the_code_verifier_is_refused(live_service):
    user = factories.user_make(factories.account_make())
    application, secret = factories.oauth_application_make(redirect_uri=REDIRECT_URI)
    _verifier, challenge = pkce_pair()
    code = authorization_code(live_service, user, application, challenge=challenge, scope="contacts:read")

    refused = token_request(
        live_service, application, secret, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI
    )

    assert refused["status"] == 400, refused
    assert "access_token" not in refused


@pytest.mark.django_db(transaction=True)
def test_code_exchange_with_another_code_verifier_is_refused(live_service):
    user = factories.user_make(factories.account_make())
    application, secret = factories.oauth_application_make(redirect_uri=REDIRECT_URI)
    _verifier, challenge = pkce_pair()
    code = authorization_code(live_service, user, application, challenge=challenge, scope="contacts:read")

    refused = token_request(
        live_service, application, secret,
        grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, code_verifier=pkce_pair()[0],
    )

    assert refused["status"] == 400 and refused["error"] == "invalid_grant", refused


@pytest.mark.django_db(transaction=True)
def test_authorization_request_without_a_code_challenge_is_refused(live_service):
    user = factories.user_make(factories.account_make())
    application, _secret = factories.oauth_application_make(redirect_uri=REDIRECT_URI)
    query = {"response_type": "code", "client_id": application.client_id, "redirect_uri": REDIRECT_URI,
             "scope": "contacts:read", "state": "s"}

    with live_service.http() as browser:
        log_in(browser, username=user.username, password="pw")
        response = browser.get("/o/authorize/", params=query)

    # The error goes back to the app, never a code.
    assert response.status_code == 302, response.text
    params = parse_qs(urlsplit(response.headers["location"]).query)
    assert params["error"] == ["invalid_request"] and "code" not in params


@pytest.mark.django_db(transaction=True)
def test_read_only_token_reads_but_cannot_post_a_bulk(live_service):
    user = factories.user_make(factories.account_make())
    token = factories.token_make(user, "contacts:read")

    with live_service.http(token) as http:
        reads = [http.get(path) for path in ("/api/v1/lists", "/api/v1/contacts", "/api/v1/quotas")]
        bulk = http.post("/api/v1/contacts/bulk", json=BULK)

    assert [r.status_code for r in reads] == [200, 200, 200], [r.text for r in reads]
    assert bulk.status_code == 403, bulk.text
    assert bulk.json() == {"errors": [{"message": "This token lacks the contacts:write scope."}]}


@pytest.mark.django_db(transaction=True)
def test_write_only_token_posts_a_bulk_but_cannot_read(live_service):
    user = factories.user_make(factories.account_make())
    token = factories.token_make(user, "contacts:write")

    with live_service.socket(token=token) as ws, live_service.http(token) as http:
        read = http.get("/api/v1/lists")
        bulk = http.post("/api/v1/contacts/bulk", json=BULK)
        assert bulk.status_code == 202, bulk.text
        # Wait for the job's end: a job must not outlive the test's data.
        job_events(ws, bulk.json()["uuid"])

    assert read.status_code == 403, read.text
    assert read.json() == {"errors": [{"message": "This token lacks the contacts:read scope."}]}


@pytest.mark.django_db(transaction=True)
def test_expired_token_gets_401_with_the_error_body(live_service):
    user = factories.user_make(factories.account_make())
    token = factories.token_make(user, expires_in=-60)

    with live_service.http(token) as http:
        response = http.get("/api/v1/lists")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    errors = response.json()["errors"]
    assert len(errors) == 1 and errors[0]["message"]


@pytest.mark.django_db(transaction=True)
def test_token_of_a_deactivated_user_gets_401(live_service):
    user = factories.user_make(factories.account_make(), is_active=False)
    token = factories.token_make(user)

    with live_service.http(token) as http:
        response = http.get("/api/v1/lists")

    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer one two", "Basic dXNlcjpwdw==", "Token abc", "Bearer unknown-token"],
)
@pytest.mark.django_db(transaction=True)
def test_malformed_or_unknown_authorization_header_gets_401_with_the_error_body(live_service, authorization):
    with live_service.http() as http:
        http.headers["Authorization"] = authorization
        get = http.get("/api/v1/lists")
        post = http.post("/api/v1/contacts/bulk", json=BULK)

    for response in (get, post):
        assert response.status_code == 401, response.text
        errors = response.json()["errors"]
        assert len(errors) == 1 and errors[0]["message"]


@pytest.mark.django_db(transaction=True)
def test_request_without_credentials_gets_401_with_the_error_body(live_service):
    with live_service.http() as http:
        response = http.post("/api/v1/contacts/bulk", json=BULK)

    assert response.status_code == 401
    assert response.json() == {"errors": [{"message": "Authentication credentials were not provided."}]}


@pytest.mark.django_db(transaction=True)
def test_session_from_the_login_form_reads_the_api(live_service):
    user = factories.user_make(factories.account_make())
    factories.list_make(user.account, "mine")

    with live_service.http() as browser:
        response = log_in(browser, username=user.username, password="pw")
        assert response.status_code == 302, response.text
        lists = browser.get("/api/v1/lists")

    assert lists.status_code == 200, lists.text
    assert [item["name"] for item in lists.json()["results"]] == ["mine"]


@pytest.mark.django_db(transaction=True)
def test_login_form_with_a_wrong_password_logs_nobody_in(live_service):
    user = factories.user_make(factories.account_make())

    with live_service.http() as browser:
        response = log_in(browser, username=user.username, password="wrong")
        lists = browser.get("/api/v1/lists")

    assert response.status_code == 200  # the form again, with its error
    assert "sessionid" not in browser.cookies
    assert lists.status_code == 401


@pytest.mark.django_db
def test_session_reads_the_api(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    assert client.get("/api/v1/lists").status_code == 200


@pytest.mark.django_db
def test_session_post_without_csrf_token_is_refused(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    response = client.post("/api/v1/contacts/bulk", BULK, format="json")

    assert response.status_code == 403
    [error] = response.json()["errors"]
    assert "CSRF" in error["message"]


@pytest.mark.django_db
def test_session_post_with_csrf_token_is_accepted(user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    # A same-origin page gets its CSRF cookie from any page of ours that renders a form.
    assert client.get("/accounts/login/").status_code == 200
    csrf_token = client.cookies["csrftoken"].value

    response = client.post("/api/v1/contacts/bulk", BULK, format="json", HTTP_X_CSRFTOKEN=csrf_token)

    assert response.status_code == 202, response.content


@pytest.mark.django_db
def test_login_page_names_the_service_not_the_admin_and_tells_a_signed_in_user_who_they_are(user):
    client = APIClient()
    anonymous = client.get("/accounts/login/").content.decode()
    client.force_login(user)
    signed_in = client.get("/accounts/login/").content.decode()

    assert "<title>Sign in | Contacts API</title>" in anonymous
    assert "Django administration" not in anonymous
    assert f"You are signed in as {user.email}." in signed_in
    assert "not authorized" not in signed_in


@pytest.mark.django_db(transaction=True)
def test_same_origin_page_posts_a_bulk_with_its_session_and_csrf_token_but_a_foreign_origin_cannot(live_service):
    user = factories.user_make(factories.account_make())
    origin = live_service.base_url

    with live_service.http() as browser:
        assert log_in(browser, username=user.username, password="pw").status_code == 302
        csrf = {"X-CSRFToken": browser.cookies["csrftoken"]}
        cookie = f"sessionid={browser.cookies['sessionid']}"
        without_token = browser.post("/api/v1/contacts/bulk", json=BULK, headers={"Origin": origin})
        foreign = browser.post("/api/v1/contacts/bulk", json=BULK, headers={**csrf, "Origin": "https://evil.example"})
        with live_service.socket(additional_headers={"Cookie": cookie, "Origin": origin}) as ws:
            accepted = browser.post("/api/v1/contacts/bulk", json=BULK, headers={**csrf, "Origin": origin})
            assert accepted.status_code == 202, accepted.text
            # The page's socket hears its job; waiting for the end also keeps the job
            # from outliving the test's data.
            assert job_events(ws, accepted.json()["uuid"])[-1]["event"] == ENDING

    for refused in (without_token, foreign):
        assert refused.status_code == 403, refused.text
        [error] = refused.json()["errors"]
        assert "CSRF" in error["message"]
