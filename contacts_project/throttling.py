"""Rate limits per user, counted in the shared cache (Redis, or the process's memory on the
embedded default)."""

import logging
import time

from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from contacts_project.settings.env import rate_parse

logger = logging.getLogger(__name__)


class CallerRateThrottle(BaseThrottle):
    """Requests per user, whatever the token or session they come with (a client can mint
    tokens at will); views may name a scope of their own.

    Counted per window of the rate's period by the cache's atomic increment, so requests
    at once in several processes cannot pass the limit together (DRF's SimpleRateThrottle
    reads, changes and writes back a list of times: 15 to 22 of 40 requests at once passed
    a limit of 5). A client may spend a window's limit at its end and the next one's at
    the start of the next."""

    def __init__(self):
        self._wait = None

    def allow_request(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return True  # answered 401 by authentication; nothing to count
        scope = getattr(view, "throttle_scope", None) or "api"
        # Read at each request rather than at import, so the settings can change the rates.
        limit, period = rate_parse(api_settings.DEFAULT_THROTTLE_RATES[scope])
        now = time.time()
        window = int(now // period)
        key = f"throttle:{scope}:user-{request.user.pk}:{window}"
        try:
            count = _counted(key, timeout=period + 1)  # outlives its window: its increments find it
        except (RedisError, OSError):
            # The shared cache is out of reach: serve rather than fail every request.
            logger.warning("Rate limits not applied: the cache is out of reach", exc_info=True)
            return True
        self._wait = (window + 1) * period - now
        return count <= limit

    def wait(self):
        return self._wait


def _counted(key: str, *, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # gone meanwhile (evicted, flushed): this request starts it again
        cache.add(key, 1, timeout=timeout)
        return 1
