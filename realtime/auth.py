"""Socket authentication: a bearer token (query or header) or the session cookie.

Sets `scope["user"]`; sets `scope["auth_denial"]` to a close code when credentials were
offered but refused, so the consumer can close with it after accepting. The session is
read when the socket connects, not for every frame (channels' session middleware would);
the consumer checks the credentials again before it sends anything (`credentials_hold`),
so a revoked or expired token, or an ended session, gets nothing more.
"""

import hashlib
from concurrent.futures import ThreadPoolExecutor
from importlib import import_module
from types import SimpleNamespace
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth import get_user, get_user_model
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from oauth2_provider.models import get_access_token_model

from .close_codes import CLOSE_FORBIDDEN, CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHENTICATED

SOCKET_SCOPES = ("contacts:read", "contacts:write")


def bearer_token(scope) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("access_token"):
        return query["access_token"][0]
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            if kind.lower() == "bearer" and token.strip():
                return token.strip()
    return None


@database_sync_to_async
def token_user(raw: str):
    """The user a valid token acts for (a client-credentials token: its application's user)."""
    user_id, denial = _token_grant(raw)
    if user_id is None:
        return None, denial
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    return (user, None) if user is not None else (None, CLOSE_UNAUTHENTICATED)


def _token_grant(raw: str) -> tuple[int | None, int | None]:
    """The id of the active user a valid token acts for (a client-credentials token: its
    application's user), or None and the close code saying why. Read as plain values: this
    runs for every message a socket is sent, and reading the token, its application and
    their users as model instances cost ~3 ms of CPU against ~1 ms. The token's own rules
    (expiry, scopes) are django-oauth-toolkit's, on an unsaved token of the values read."""
    AccessToken = get_access_token_model()
    found = list(
        AccessToken.objects.filter(token_checksum=hashlib.sha256(raw.encode()).hexdigest())
        .values_list("expires", "scope", "user_id", "user__is_active", "application__user_id", "application__user__is_active")[:1]
    )
    if not found:
        return None, CLOSE_UNAUTHENTICATED
    expires, scope, user_id, user_active, application_user_id, application_user_active = found[0]
    token = AccessToken(expires=expires, scope=scope)
    if token.is_expired():
        return None, CLOSE_UNAUTHENTICATED
    if not any(token.allow_scopes([wanted]) for wanted in SOCKET_SCOPES):
        return None, CLOSE_FORBIDDEN
    if user_id is None:
        user_id, user_active = application_user_id, application_user_active
    if user_id is None or not user_active:
        return None, CLOSE_UNAUTHENTICATED
    return user_id, None


def origin_allowed(scope) -> bool:
    """Cookie auth is only for same-origin pages (a cross-site page would ride the cookie)."""
    origin = dict(scope.get("headers", [])).get(b"origin")
    if origin is None:
        return True  # not a browser: no cookie can be ridden
    host = origin.decode("latin-1").split("://", 1)[-1]
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def _session_user(scope):
    """The user of the session the socket's cookie names, as Django's auth reads it for a
    request (an expired, logged-out or rotated session gives AnonymousUser)."""
    cookies = {}
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            cookies.update(parse_cookie(value.decode("latin-1")))
    session_key = cookies.get(settings.SESSION_COOKIE_NAME)
    if not session_key:
        return AnonymousUser()
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    return get_user(SimpleNamespace(session=session))


session_user = database_sync_to_async(_session_user)


def _credentials_hold(scope) -> bool:
    """Whether the credentials the socket connected with still give it its user: the token
    not revoked or expired, the session not ended, the user still active."""
    user = scope["user"]
    raw = bearer_token(scope)
    if raw is not None:
        granted, _ = _token_grant(raw)
        return granted is not None and granted == user.pk  # a refused socket's user is anonymous: pk None
    holder = _session_user(scope)
    return holder.is_authenticated and holder.pk == user.pk and holder.is_active


# Off the one thread that runs sync code by default, so that a socket's check does not wait
# behind other work; a few threads, each holding a pooled connection while it checks.
CHECK_THREADS = 4
check_threads = ThreadPoolExecutor(CHECK_THREADS, "socket-credentials")
credentials_hold = database_sync_to_async(_credentials_hold, thread_sensitive=False, executor=check_threads)


class SocketAuthMiddleware(BaseMiddleware):
    """A bearer token if one is offered, else the session cookie (same-origin pages only)."""

    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        scope["auth_denial"] = None
        raw = bearer_token(scope)
        try:
            if raw is not None:
                user, scope["auth_denial"] = await token_user(raw)
            else:
                user = await session_user(scope)
                if user.is_authenticated and not origin_allowed(scope):
                    user, scope["auth_denial"] = None, CLOSE_FORBIDDEN
        except DatabaseError:
            user, scope["auth_denial"] = None, CLOSE_TRY_AGAIN_LATER  # nothing to check with
        scope["user"] = user or AnonymousUser()
        return await super().__call__(scope, receive, send)


def socket_auth_stack(inner):
    return SocketAuthMiddleware(inner)
