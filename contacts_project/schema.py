"""Shapes of the API's error bodies, for the OpenAPI document."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    class Problem(serializers.Serializer):
        index = serializers.IntegerField(required=False, help_text="Row of the contacts array")
        field = serializers.CharField(required=False)
        message = serializers.CharField()

    errors = Problem(many=True)


class QuotaErrorSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=["contact_connect_quotas", "contact_total_quotas"])
    detail = serializers.CharField()


ERROR_RESPONSES = {
    400: OpenApiResponse(ErrorSerializer, description="Invalid body or query; nothing was written"),
    401: OpenApiResponse(ErrorSerializer, description="No valid credentials"),
    403: OpenApiResponse(ErrorSerializer, description="The token lacks the scope"),
    404: OpenApiResponse(ErrorSerializer, description="No such object in your account"),
    413: OpenApiResponse(ErrorSerializer, description="Body too large"),
}
