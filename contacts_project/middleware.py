import json

from django.conf import settings
from django.http import HttpResponse


class RequestSizeLimitMiddleware:
    """Answer an over-large API body with a 413 JSON error before anything reads it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if request.path.startswith("/api/") and length.isdigit() and int(length) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            body = {"errors": [{"field": "body", "message": "The request body is larger than this service accepts."}]}
            return HttpResponse(json.dumps(body), status=413, content_type="application/json")
        return self.get_response(request)
