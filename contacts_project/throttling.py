import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class CallerRateThrottle(SimpleRateThrottle):
    """Requests per token (or per session user); views may name a scope of their own."""

    scope = "api"

    def get_cache_key(self, request, view):
        self.scope = getattr(view, "throttle_scope", None) or "api"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        token = request.auth
        caller = f"token-{token.pk}" if token is not None and hasattr(token, "pk") else f"user-{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": caller}

    def get_rate(self):
        # Read at each request rather than at import, so the settings can change the rates.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return True  # answered 401 by authentication; nothing to count
        try:
            return super().allow_request(request, view)
        except Exception:
            # The shared cache (Redis) is out of reach: serve rather than fail every request.
            logger.warning("Rate limits not applied: the cache is out of reach", exc_info=True)
            return True
