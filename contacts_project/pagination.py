"""The API's cursor pagination: DRF's, with a cursor it cannot use answered as a 400."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


class CursorPagination(pagination.CursorPagination):
    """Pages oldest first by (created_at, id); `next` and `previous` are opaque links."""

    ordering = ("created_at", "id")
    page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        # DRF answers an undecodable cursor with a 404, and a decodable one whose position
        # is not a date-time (a tampered cursor) with a 500 from the query's validation.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (NotFound, DjangoValidationError):
            raise ValidationError({"cursor": ["Invalid cursor."]}) from None
