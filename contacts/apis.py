"""Contacts HTTP API: the bulk route, its job status, and reading contacts back."""

import logging

from django.conf import settings
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from contacts_project.pagination import CURSOR_PARAMETERS, CursorPagination, page_of, query_parameters_check
from contacts_project.schema import (
    BULK_EVENTS_DESCRIPTION,
    ERROR_RESPONSES,
    WRITE_ERROR_RESPONSES,
    ErrorSerializer,
    QuotaErrorSerializer,
)
from lists.selectors import list_find

from .bulk_input import BodyProblems, BulkBody, BulkRequest
from .fields import CONTACT_FIELDS
from .idempotency import RequestKey, idempotency_key_valid
from .problems import problems_gathered
from .selectors import bulk_job_find, contact_find, contacts_filtered
from .services import BulkFlags, bulk_job_answered, bulk_job_create
from .validation_helper import bulk_request_validate

logger = logging.getLogger(__name__)

_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
BULK_FLAGS = {"moveToList": "move_to_list", "replaceOwner": "replace_owner"}


def bulk_flags(query) -> BulkFlags:
    """Parse the bulk route's query: its two booleans, nothing else."""
    problems, values = [], {}
    for name in query:
        if name not in BULK_FLAGS:
            problems.append({"field": name, "message": "is not a known query parameter"})
    for name, attr in BULK_FLAGS.items():
        raw = query.get(name)
        if raw is None:
            continue
        if raw.lower() not in _BOOLEANS:
            problems.append({"field": name, "message": "must be true, false, 1 or 0"})
        else:
            values[attr] = _BOOLEANS[raw.lower()]
    if problems:
        raise BodyProblems(problems)
    return BulkFlags(**values)


class UnparsedJSONParser(JSONParser):
    """Accepts JSON without parsing it: the view parses and validates it in one pass.

    Otherwise DRF parses the body as soon as something reads `request.POST` (the session
    authentication's CSRF check), before the view, and answers invalid JSON with an error
    that names no field.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        return {}


class ContactBulkCreateApi(APIView):
    parser_classes = [UnparsedJSONParser]
    throttle_scope = "bulk"

    @extend_schema_serializer(component_name="BulkAccepted")
    class OutputSerializer(serializers.Serializer):
        uuid = serializers.UUIDField(source="pk")
        listId = serializers.UUIDField(source="list_id")
        total = serializers.IntegerField()
        status = serializers.CharField()
        statusUrl = serializers.SerializerMethodField()

        def get_statusUrl(self, job) -> str:
            path = reverse("contacts:bulk-job-detail", kwargs={"job_id": job.pk})
            return self.context["request"].build_absolute_uri(path)

    @extend_schema(
        operation_id="contacts_bulk_create",
        summary="Create and update up to 10,000 contacts; progress goes out over /ws/",
        description=BULK_EVENTS_DESCRIPTION,
        parameters=[
            *(
                OpenApiParameter(name, OpenApiTypes.BOOL, description=text, default=False)
                for name, text in (
                    ("moveToList", "Move existing contacts to this request's list."),
                    ("replaceOwner", "Replace an existing contact's owner by the owner field."),
                )
            ),
            OpenApiParameter(
                "Idempotency-Key",
                OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                description="Retry safely: the same key and request within 24 hours answers the same job; "
                "the same key with another request answers 422.",
            ),
        ],
        request=BulkRequest,
        responses={
            202: OutputSerializer,
            402: QuotaErrorSerializer,
            **WRITE_ERROR_RESPONSES,
            422: OpenApiResponse(ErrorSerializer, description="Idempotency-Key used with another request"),
        },
    )
    def post(self, request):
        raw = _json_body(request)
        flags, request_key, body = problems_gathered(
            lambda: bulk_flags(request.query_params),
            lambda: _request_key(request),
            lambda: bulk_request_validate(
                raw, size=settings.BULK_CHUNK_SIZE, helper_wanted=settings.BULK_VALIDATION_HELPER
            ),
        )
        job = bulk_job_create(
            user=request.user, request=body, flags=flags, request_key=request_key, answered_later=True
        )
        data = self.OutputSerializer(job, context={"request": request}).data
        if job.first_answer_pending:  # a retry: its first request's 202 lets the `ending` go
            return Response(data, status=202)
        return _AnsweredOnceSent(data, job_id=job.pk, request=body)


class _AnsweredOnceSent(Response):
    """The 202, which tells the job once it has been written: the job's `ending` waits for
    that, so the 202 always comes before it, as the contract says, however small the job
    (the job runs meanwhile). Were the response never written, the `ending` waits
    ANSWER_GRACE, or a retry's 202 once its first request seems dead.

    It holds the validated request until then: freeing 10,000 contacts' objects takes
    ~15 ms, which the 202 would otherwise wait for."""

    def __init__(self, data, *, job_id, request: BulkBody):
        super().__init__(data, status=202)
        self._job_id = job_id
        self._request = request

    def close(self):
        try:
            bulk_job_answered(job_id=self._job_id)
        except Exception:  # the grace sends the `ending` all the same; the connection must go back
            logger.exception("Could not record the answer of job %s; its ending waits for the grace", self._job_id)
        finally:
            self._request = None
            super().close()  # the request's end: its database connection goes back to the pool


def _json_body(request) -> bytes:
    """The body as sent, once DRF's negotiation has found it sent as JSON (415 otherwise)."""
    request.data  # UnparsedJSONParser: negotiates the type, parses nothing
    return request.body


def _request_key(request) -> RequestKey | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not idempotency_key_valid(key):
        raise BodyProblems([{"field": "Idempotency-Key", "message": "must be 1 to 255 printable ASCII characters"}])
    return RequestKey.of(key, body=request.body, query=request.META.get("QUERY_STRING", ""))


class BulkJobDetailApi(APIView):
    @extend_schema_serializer(component_name="BulkJob")
    class OutputSerializer(serializers.Serializer):
        class RowError(serializers.Serializer):
            index = serializers.IntegerField(required=False)
            field = serializers.CharField(required=False)
            message = serializers.CharField()

        uuid = serializers.UUIDField(source="pk")
        listId = serializers.UUIDField(source="list_id")
        total = serializers.IntegerField()
        processed = serializers.IntegerField()
        created = serializers.IntegerField()
        updated = serializers.IntegerField()
        failed = serializers.IntegerField(source="failed_rows")
        status = serializers.CharField()
        errors = serializers.SerializerMethodField()

        @extend_schema_field(RowError(many=True))
        def get_errors(self, job):
            if job.failure_reason:
                return [*job.errors, {"message": job.failure_reason}]
            return job.errors

    @extend_schema(operation_id="contacts_bulk_job", responses={200: OutputSerializer, **ERROR_RESPONSES})
    def get(self, request, job_id):
        job = bulk_job_find(account_id=request.user.account_id, job_id=job_id)
        if job is None:
            raise NotFound("No bulk job of your account has this id.")
        return Response(self.OutputSerializer(job).data)


def _contact_output_serializer():
    fields = {
        "id": serializers.UUIDField(),
        "listId": serializers.UUIDField(source="list_id"),
        "createdAt": serializers.DateTimeField(source="created_at"),
        "updatedAt": serializers.DateTimeField(source="updated_at"),
    }
    for field in CONTACT_FIELDS:
        source = {"source": field.attr} if field.attr != field.api else {}
        if field.kind == "owner":
            fields[field.api] = serializers.EmailField(source="owner.email")
        elif field.kind == "datetime":
            fields[field.api] = serializers.DateTimeField(**source)
        elif field.kind == "vars":
            fields[field.api] = serializers.DictField(**source)
        else:
            fields[field.api] = serializers.CharField(allow_null=True, **source)
    return type("ContactOutputSerializer", (serializers.Serializer,), fields)


ContactOutputSerializer = _contact_output_serializer()


class ContactPagination(CursorPagination):
    max_page_size = 1000
    page_size_query_param = "pageSize"


class ContactListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        list = serializers.UUIDField(required=False)
        email = serializers.CharField(required=False, max_length=254)
        linkedinUrl = serializers.CharField(required=False, max_length=2048)
        owner = serializers.CharField(required=False, max_length=254)
        pageSize = serializers.IntegerField(required=False, min_value=1, max_value=1000, help_text="default 100")

    @extend_schema(
        operation_id="contacts_list",
        parameters=[FilterSerializer, *CURSOR_PARAMETERS],
        responses={200: page_of(ContactOutputSerializer, "ContactPage"), **ERROR_RESPONSES},
    )
    def get(self, request):
        query_parameters_check(request, {*self.FilterSerializer().fields, "cursor"})
        # A plain dict: a QueryDict would make DRF read an empty value as an absent one.
        filters = self.FilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        # The contract's rule for ids: another account's list answers 404, as an unknown one.
        if "list" in data and list_find(account_id=request.user.account_id, list_id=data["list"]) is None:
            raise NotFound("No list of your account has the id given as `list`.")
        contacts = contacts_filtered(
            account_id=request.user.account_id,
            list_id=data.get("list"),
            email=data.get("email"),
            linkedin_url=data.get("linkedinUrl"),
            owner_email=data.get("owner"),
        )
        paginator = ContactPagination()
        page = paginator.paginate_queryset(contacts, request, view=self)
        return paginator.get_paginated_response(ContactOutputSerializer(page, many=True).data)


class ContactDetailApi(APIView):
    @extend_schema(operation_id="contacts_detail", responses={200: ContactOutputSerializer, **ERROR_RESPONSES})
    def get(self, request, contact_id):
        contact = contact_find(account_id=request.user.account_id, contact_id=contact_id)
        if contact is None:
            raise NotFound("No contact of your account has this id.")
        return Response(ContactOutputSerializer(contact).data)
