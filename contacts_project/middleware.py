import json

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from .exceptions import DATABASE_UNAVAILABLE, TOO_LARGE


def _json(body: dict, status: int, **headers) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json", headers=headers)


class RequestSizeLimitMiddleware:
    """Answer an over-large API body with a 413 JSON error before anything reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if request.path.startswith("/api/") and length.isdigit() and int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return _json(TOO_LARGE, 413)
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A clean 503 JSON answer, rather than a 500 page, when the database cannot be reached
    outside the API views (the token endpoint, the login page)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            return _json(DATABASE_UNAVAILABLE, 503, **{"Retry-After": "5"})
        return None
