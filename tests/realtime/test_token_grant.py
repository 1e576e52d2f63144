"""What a socket's bearer token grants, checked at the connection and before every message
(realtime/auth.py): tokens issued to a user of their own, not only client-credentials ones."""

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import AnonymousUser

from realtime.auth import credentials_hold, token_user
from realtime.close_codes import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _scope(raw: str, user) -> dict:
    return {"query_string": f"access_token={raw}".encode(), "headers": [], "user": user}


def test_a_token_issued_to_a_user_acts_for_that_user_not_its_applications():
    account = factories.account_make()
    owner, developer = factories.user_make(account), factories.user_make(account)
    raw = factories.token_make(developer, issued_to=owner)

    user, denial = async_to_sync(token_user)(raw)

    assert (user.pk, denial) == (owner.pk, None)
    assert async_to_sync(credentials_hold)(_scope(raw, owner))
    assert not async_to_sync(credentials_hold)(_scope(raw, developer))


def test_a_token_of_a_deactivated_user_grants_nothing_though_its_applications_user_is_active():
    account = factories.account_make()
    owner, developer = factories.user_make(account), factories.user_make(account)
    raw = factories.token_make(developer, issued_to=owner)
    owner.is_active = False
    owner.save()

    assert async_to_sync(token_user)(raw) == (None, CLOSE_UNAUTHENTICATED)
    assert not async_to_sync(credentials_hold)(_scope(raw, owner))


@pytest.mark.parametrize("scope", ["contacts:readonly", "contacts:read:all write"])
def test_a_scope_only_spelled_like_a_contacts_scope_is_forbidden(scope):
    user = factories.user_make(factories.account_make())

    assert async_to_sync(token_user)(factories.token_make(user, scope)) == (None, CLOSE_FORBIDDEN)


def test_a_socket_refused_at_connection_never_holds_credentials():
    """Its user is anonymous (no id), and a refused token grants no user either."""
    assert not async_to_sync(credentials_hold)(_scope("not-a-token", AnonymousUser()))
