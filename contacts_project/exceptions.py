"""The one API exception handler: every error answers `{"errors": [...]}` (402: the quota body)."""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.exceptions import APIException, ParseError, UnsupportedMediaType, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from contacts.bulk_input import BodyProblems
from contacts.idempotency import IdempotencyConflict
from quotas.exceptions import QuotaExceeded


def api_exception_handler(exc, context):
    if isinstance(exc, BodyProblems):
        return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, QuotaExceeded):
        return Response(
            {"reason": exc.reason, "detail": exc.detail}, status=status.HTTP_402_PAYMENT_REQUIRED
        )
    if isinstance(exc, RequestDataTooBig):
        return request_too_large()
    if isinstance(exc, IdempotencyConflict):
        message = "was used with another request in the last 24 hours; use a new key for a new request"
        return Response({"errors": [{"field": "Idempotency-Key", "message": message}]}, status=422)
    if isinstance(exc, (OperationalError, InterfaceError)):
        return Response(DATABASE_UNAVAILABLE, status=503, headers={"Retry-After": "5"})
    if isinstance(exc, PermissionDenied):  # Django's, from a service: DRF's, in our shape
        exc = exceptions.PermissionDenied(*exc.args)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, ValidationError):
        response.data = {"errors": _field_errors(exc.detail)}
    elif isinstance(exc, ParseError):
        response.data = {"errors": [{"field": "body", "message": str(exc.detail)}]}
    elif isinstance(exc, UnsupportedMediaType):
        sent = context["request"].content_type
        message = f'must be application/json, not "{sent}"' if sent else "is missing: send application/json"
        response.data = {"errors": [{"field": "Content-Type", "message": message}]}
    elif isinstance(exc, APIException):
        response.data = {"errors": [{"message": str(exc.detail)}]}
    return response


TOO_LARGE = {"errors": [{"field": "body", "message": "The request body is larger than this service accepts."}]}
# Nothing was written: every write of a request is one transaction.
DATABASE_UNAVAILABLE = {"errors": [{"message": "The database is unavailable; nothing was written. Try again shortly."}]}
NOT_FOUND = {"errors": [{"message": "No such path in this API; /api/schema/ lists them (/api/v1/ paths end without a slash)."}]}


def request_too_large() -> Response:
    return Response(TOO_LARGE, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def page_not_found(request, exception):
    """The 404 of a path no URL matches: the error shape under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(NOT_FOUND, status=404)
    return defaults.page_not_found(request, exception)


def _field_errors(detail, prefix: str = "") -> list[dict]:
    if isinstance(detail, dict):
        errors = []
        for field, value in detail.items():
            name = prefix if field == "non_field_errors" else f"{prefix}{field}"
            errors += _field_errors(value, f"{name}." if isinstance(value, dict) else name)
        return errors
    if isinstance(detail, list):
        return [e for item in detail for e in _field_errors(item, prefix)]
    entry = {"message": str(detail)}
    if prefix:
        entry["field"] = prefix.rstrip(".")
    return [entry]
