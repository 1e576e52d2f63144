from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts_project.schema import ERROR_RESPONSES

from .selectors import quota_connect_state, quota_total_state


class QuotaApi(APIView):
    @extend_schema_serializer(component_name="Quotas")
    class OutputSerializer(serializers.Serializer):
        class State(serializers.Serializer):
            limit = serializers.IntegerField(allow_null=True, help_text="null: unlimited")
            used = serializers.IntegerField(
                help_text="held, or reserved by unfinished jobs (reserved only while a limit counts them)"
            )

        total = State()
        connectToday = State()

    @extend_schema(operation_id="quotas", responses={200: OutputSerializer, **ERROR_RESPONSES})
    def get(self, request):
        data = {
            "total": quota_total_state(account_id=request.user.account_id),
            "connectToday": quota_connect_state(user_id=request.user.pk),
        }
        return Response(self.OutputSerializer(data).data)
