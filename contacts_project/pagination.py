"""The API's cursor pagination: DRF's, with a cursor it cannot use answered as a 400."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema_serializer
from rest_framework import pagination, serializers
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


def page_of(item_serializer, component_name: str):
    """The serializer of one page of `item_serializer` items, for the OpenAPI document."""
    fields = {
        "next": serializers.URLField(allow_null=True, help_text="The next page; null on the last"),
        "previous": serializers.URLField(allow_null=True),
        "results": item_serializer(many=True),
    }
    page = type(component_name, (serializers.Serializer,), fields)
    return extend_schema_serializer(component_name=component_name)(page)


CURSOR_PARAMETERS = [
    OpenApiParameter("cursor", OpenApiTypes.STR, description="From the `next` or `previous` link"),
]


def query_parameters_check(request, known: set[str]) -> None:
    """Answer a query parameter the route does not take with a 400 naming it: a misspelt
    filter must not silently return everything."""
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ValidationError({name: ["is not a known query parameter"] for name in unknown})
