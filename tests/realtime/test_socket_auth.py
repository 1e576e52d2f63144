"""Who may open /ws/: a bearer token (query or header) or the session cookie, refused with
4401 (no valid credentials) or 4403 (credentials that may not listen), on a live server."""

import hashlib
import json

import pytest
from websockets.exceptions import ConnectionClosed

from contacts.models import BulkJob
from realtime import events
from realtime.events import ENDING, RUNNING, STARTING
from tests import factories
from tests.browser import log_in
from tests.live import job_events, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

BULK = {"list": {"name": "leads"}, "contacts": [{"email": "ada@example.test"}]}
CLOSE_TIMEOUT = 10  # seconds a refused socket may take to be closed before the test fails


def close_code(live_service, **socket_kwargs) -> int:
    """The code the server closes a freshly opened socket with (fails if it stays open)."""
    with live_service.socket(**socket_kwargs) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=CLOSE_TIMEOUT)
    return closed.value.rcvd.code


def post_bulk_and_receive_its_events(live_service, ws, user) -> list[dict]:
    """Post a bulk as `user` (with a token of theirs) and collect its events from `ws`."""
    with live_service.http(factories.token_make(user)) as http:
        response = http.post("/api/v1/contacts/bulk", json=BULK)
    assert response.status_code == 202, response.text
    job_id = response.json()["uuid"]
    received = job_events(ws, job_id)
    assert [event["event"] for event in received] == [STARTING, RUNNING, ENDING]
    return received


def session_cookie(live_service, user) -> str:
    """Log in through the login form, as a browser does, and answer its session cookie."""
    with live_service.http() as browser:
        response = log_in(browser, username=user.username, password="pw")
        assert response.status_code == 302, response.text
        return f"sessionid={browser.cookies['sessionid']}"


def test_socket_without_credentials_is_closed_with_4401(live_service):
    assert close_code(live_service) == 4401


@pytest.mark.parametrize("token", ["", "not-a-token", "0" * 64])
def test_socket_with_an_unknown_token_is_closed_with_4401(live_service, token):
    assert close_code(live_service, path=f"/ws/?access_token={token}") == 4401


def test_socket_with_an_expired_token_is_closed_with_4401(live_service):
    user = factories.user_make(factories.account_make())

    assert close_code(live_service, token=factories.token_make(user, expires_in=-60)) == 4401


def test_socket_with_a_revoked_token_is_closed_with_4401(live_service):
    from oauth2_provider.models import get_access_token_model

    user = factories.user_make(factories.account_make())
    token = factories.token_make(user)
    get_access_token_model().objects.filter(application__user=user).get().revoke()

    assert close_code(live_service, token=token) == 4401


def test_socket_with_a_token_of_a_deactivated_user_is_closed_with_4401(live_service):
    user = factories.user_make(factories.account_make(), is_active=False)

    assert close_code(live_service, token=factories.token_make(user)) == 4401


@pytest.mark.parametrize("scope", ["", "read write", "openid"])
def test_socket_with_a_token_without_a_contacts_scope_is_closed_with_4403(live_service, scope):
    user = factories.user_make(factories.account_make())

    assert close_code(live_service, token=factories.token_make(user, scope)) == 4403


def test_an_unknown_token_is_refused_even_beside_a_valid_session(live_service):
    user = factories.user_make(factories.account_make())
    cookie = session_cookie(live_service, user)

    code = close_code(live_service, token="not-a-token", additional_headers={"Cookie": cookie})

    assert code == 4401


@pytest.mark.parametrize("scope", ["contacts:read", "contacts:write"])
def test_socket_with_a_token_of_either_contacts_scope_receives_its_users_events(live_service, scope):
    user = factories.user_make(factories.account_make())

    with live_service.socket(token=factories.token_make(user, scope)) as ws:
        post_bulk_and_receive_its_events(live_service, ws, user)


def test_socket_with_an_authorization_bearer_header_receives_its_users_events(live_service):
    user = factories.user_make(factories.account_make())
    headers = {"Authorization": f"Bearer {factories.token_make(user)}"}

    with live_service.socket(additional_headers=headers) as ws:
        post_bulk_and_receive_its_events(live_service, ws, user)


def test_socket_with_a_bad_authorization_bearer_header_is_closed_with_4401(live_service):
    assert close_code(live_service, additional_headers={"Authorization": "Bearer not-a-token"}) == 4401


def test_socket_with_the_session_cookie_receives_its_users_events(live_service):
    user = factories.user_make(factories.account_make())
    cookie = session_cookie(live_service, user)

    with live_service.socket(additional_headers={"Cookie": cookie}) as ws:
        post_bulk_and_receive_its_events(live_service, ws, user)


def test_socket_with_a_session_cookie_that_was_logged_out_is_closed_with_4401(live_service):
    user = factories.user_make(factories.account_make())
    with live_service.http() as browser:
        assert log_in(browser, username=user.username, password="pw").status_code == 302
        cookie = f"sessionid={browser.cookies['sessionid']}"
        logout = browser.post("/accounts/logout/", headers={"X-CSRFToken": browser.cookies["csrftoken"]})
        assert logout.status_code in (200, 302), logout.text

    assert close_code(live_service, additional_headers={"Cookie": cookie}) == 4401


@pytest.mark.parametrize("origin", ["https://evil.example", "http://evil.example:{port}", "null"])
def test_session_cookie_from_a_foreign_origin_is_closed_with_4403(live_service, origin):
    user = factories.user_make(factories.account_make())
    port = live_service.base_url.rsplit(":", 1)[1]
    headers = {"Cookie": session_cookie(live_service, user), "Origin": origin.format(port=port)}

    assert close_code(live_service, additional_headers=headers) == 4403


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_session_cookie_from_our_own_origin_receives_its_users_events(live_service, host):
    user = factories.user_make(factories.account_make())
    port = live_service.base_url.rsplit(":", 1)[1]
    headers = {"Cookie": session_cookie(live_service, user), "Origin": f"http://{host}:{port}"}

    with live_service.socket(additional_headers=headers) as ws:
        post_bulk_and_receive_its_events(live_service, ws, user)


def test_token_socket_from_a_foreign_origin_is_accepted(live_service):
    """A page that holds a token may use it anywhere: only a cookie can be ridden cross-site."""
    user = factories.user_make(factories.account_make())

    with live_service.socket(token=factories.token_make(user), origin="https://app.example") as ws:
        post_bulk_and_receive_its_events(live_service, ws, user)


def test_socket_receives_an_event_published_as_soon_as_it_opens(live_service):
    """An open socket is already in its user's group: a client may post right after opening."""
    user = factories.user_make(factories.account_make())
    event = events.ending(job_id="just-opened", created=0, updated=0, failed=0)

    with live_service.socket(token=factories.token_make(user)) as ws:
        events.publish(user_id=user.pk, events=[event])
        assert job_events(ws, "just-opened", timeout=CLOSE_TIMEOUT) == [event]


def _closed_instead_of_sent_the_next_event(live_service, ws, user) -> int:
    """Post a bulk as `user` with a fresh token: the socket must be closed, not sent its events."""
    with live_service.http(factories.token_make(user)) as http:
        response = http.post("/api/v1/contacts/bulk", json=BULK)
    assert response.status_code == 202
    with pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=CLOSE_TIMEOUT)
    # The job ends before the test does, whose end empties the tables the job writes.
    wait_for(lambda: BulkJob.objects.get(pk=response.json()["uuid"]).status == "done", "the job to end")
    return closed.value.rcvd.code


def test_an_open_socket_whose_token_is_revoked_gets_no_more_events(live_service):
    from oauth2_provider.models import get_access_token_model

    user = factories.user_make(factories.account_make())
    token = factories.token_make(user)
    with live_service.socket(token=token) as ws:
        post_bulk_and_receive_its_events(live_service, ws, user)
        get_access_token_model().objects.get(token_checksum=hashlib.sha256(token.encode()).hexdigest()).revoke()

        assert _closed_instead_of_sent_the_next_event(live_service, ws, user) == 4401


def test_an_open_socket_whose_user_is_deactivated_gets_no_more_events(live_service):
    user = factories.user_make(factories.account_make())
    with live_service.socket(token=factories.token_make(user)) as ws:
        post_bulk_and_receive_its_events(live_service, ws, user)
        job_id = post_bulk_and_receive_its_events(live_service, ws, user)[0]["data"]["uuid"]
        type(user).objects.filter(pk=user.pk).update(is_active=False)
        ws.send(json.dumps({"action": "resume", "uuid": job_id, "after": -1}))

        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=CLOSE_TIMEOUT)
    assert closed.value.rcvd.code == 4401


def test_an_open_socket_whose_session_is_logged_out_gets_no_more_events(live_service):
    user = factories.user_make(factories.account_make())
    with live_service.http() as browser:
        assert log_in(browser, username=user.username, password="pw").status_code == 302
        cookie = f"sessionid={browser.cookies['sessionid']}"
        with live_service.socket(additional_headers={"Cookie": cookie}) as ws:
            post_bulk_and_receive_its_events(live_service, ws, user)
            browser.post("/accounts/logout/", headers={"X-CSRFToken": browser.cookies["csrftoken"]})

            assert _closed_instead_of_sent_the_next_event(live_service, ws, user) == 4401
