"""What the OpenAPI document needs beyond the views: error bodies, OAuth2, the event protocol."""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
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
    429: OpenApiResponse(ErrorSerializer, description="Rate limit reached; see Retry-After"),
    503: OpenApiResponse(ErrorSerializer, description="The database is out of reach; nothing was written"),
}
# The routes that take a body read JSON only.
WRITE_ERROR_RESPONSES = {
    **ERROR_RESPONSES,
    415: OpenApiResponse(ErrorSerializer, description="The body is not sent as application/json"),
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """OAuth2 in the OpenAPI document: client credentials and authorization code (PKCE)."""

    target_class = "contacts_project.authentication.BearerTokenAuthentication"
    name = "oauth2"

    def get_security_definition(self, auto_schema):
        scopes = settings.OAUTH2_PROVIDER["SCOPES"]
        return {
            "type": "oauth2",
            "flows": {
                "clientCredentials": {"tokenUrl": "/o/token/", "scopes": scopes},
                "authorizationCode": {
                    "authorizationUrl": "/o/authorize/",
                    "tokenUrl": "/o/token/",
                    "refreshUrl": "/o/token/",
                    "scopes": scopes,
                },
            },
        }


BULK_EVENTS_DESCRIPTION = """
Creates new contacts and updates existing ones (matched by email, then by LinkedIn URL),
processing them as if one by one in array order. The 202 comes back after
`contact_bulk_create_starting` was sent and before `contact_bulk_create_ending`.

Progress goes to every socket of your user on `/ws/` (auth: `?access_token=`,
`Authorization: Bearer`, or the session cookie), one text frame per event:

```json
{"event": "contact_bulk_create_starting", "data": {"listId": "...", "uuid": "..."}}
{"event": "contact_bulk_create_running",  "data": {"uuid": "...", "i": 0, "total": 3}}
{"event": "contact_bulk_create_ending",   "data": {"uuid": "...", "created": 2, "updated": 1}}
```

One `starting`, one `running` per contact in array order (`i` is its index), then one
`ending`; `failed` is added to `ending` when some rows failed (details on the status URL).
"""
