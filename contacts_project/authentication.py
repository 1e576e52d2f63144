from oauth2_provider.contrib.rest_framework import OAuth2Authentication


class BearerTokenAuthentication(OAuth2Authentication):
    """OAuth2 bearer tokens; a client-credentials token acts as its application's user."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if user is None and token.application is not None:
            user = token.application.user
        if user is None or not user.is_active:
            return None
        return user, token
