import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class CallerRateThrottle(SimpleRateThrottle):
    """Requests per user, whatever the token or session they come with (a client can mint
    tokens at will); views may name a scope of their own."""

    scope = "api"

    def get_cache_key(self, request, view):
        self.scope = getattr(view, "throttle_scope", None) or "api"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}

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
