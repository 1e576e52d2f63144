from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts_project.fields import KnownFieldsSerializer, StrictCharField
from contacts_project.pagination import CURSOR_PARAMETERS, CursorPagination, page_of, query_parameters_check
from contacts_project.schema import ERROR_RESPONSES, WRITE_ERROR_RESPONSES

from .selectors import list_find, lists_with_counts
from .services import ListNameTaken, list_create


class ListOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    contactCount = serializers.IntegerField(source="contact_count")
    createdAt = serializers.DateTimeField(source="created_at")


class ListListCreateApi(APIView):
    class InputSerializer(KnownFieldsSerializer):
        # Kept as sent: the bulk route finds a list by its exact name.
        name = StrictCharField(max_length=200, trim_whitespace=False)

        def validate_name(self, value: str) -> str:
            if "\x00" in value:
                raise serializers.ValidationError("must not contain NUL characters")
            return value

    @extend_schema(
        operation_id="lists_list",
        parameters=CURSOR_PARAMETERS,
        responses={200: page_of(ListOutputSerializer, "ListPage"), **ERROR_RESPONSES},
    )
    def get(self, request):
        query_parameters_check(request, {"cursor"})
        paginator = CursorPagination()
        page = paginator.paginate_queryset(lists_with_counts(account_id=request.user.account_id), request, self)
        return paginator.get_paginated_response(ListOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="lists_create",
        request=InputSerializer,
        responses={201: ListOutputSerializer, **WRITE_ERROR_RESPONSES},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            created = list_create(account_id=request.user.account_id, name=data.validated_data["name"])
        except ListNameTaken:
            raise ValidationError({"name": ["Your account has a list of this name already."]}) from None
        created.contact_count = 0
        return Response(ListOutputSerializer(created).data, status=201)


class ListDetailApi(APIView):
    @extend_schema(operation_id="lists_detail", responses={200: ListOutputSerializer, **ERROR_RESPONSES})
    def get(self, request, list_id):
        found = list_find(account_id=request.user.account_id, list_id=list_id, with_count=True)
        if found is None:
            raise NotFound("No list of your account has this id.")
        return Response(ListOutputSerializer(found).data)

