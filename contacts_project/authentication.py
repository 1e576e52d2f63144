from django.http import QueryDict
from oauth2_provider.contrib.rest_framework import OAuth2Authentication


class BearerTokenAuthentication(OAuth2Authentication):
    """OAuth2 bearer tokens, from the Authorization header; a client-credentials token acts
    as its application's user."""

    def authenticate(self, request):
        if request.META.get("HTTP_AUTHORIZATION", "")[:7].lower() != "bearer ":
            return None  # no token to check
        headers_only = _HeadersOnly(request._request)
        result = super().authenticate(headers_only)
        request.oauth2_error = getattr(headers_only, "oauth2_error", {})
        if result is None:
            return None
        user, token = result
        if user is None and token.application is not None:
            user = token.application.user
        if user is None or not user.is_active:
            return None
        return user, token


class _HeadersOnly:
    """The request as oauthlib sees it, without its body: reading the body here would parse
    it before the request is authenticated, and answer a body of the wrong type 415 before
    a request without a valid token gets its 401."""

    POST = QueryDict()

    def __init__(self, request):
        self._request = request

    def __getattr__(self, name):
        return getattr(self._request, name)
