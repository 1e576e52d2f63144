"""A job's payload goes into its row and comes out byte for byte (in binary on PostgreSQL)."""

import json

import pytest
from django.conf import settings

from contacts.bulk_input import bulk_request_parse_json
from contacts.job_payload import job_payload, job_payload_store
from contacts.models import BulkJob
from contacts.payload import payload_of_packed

pytestmark = pytest.mark.django_db


def test_an_accepted_requests_payload_is_stored_as_its_validation_packed_it(api):
    raw = json.dumps({"list": {"name": "L"}, "contacts": [{"email": f"p{i}@example.test", "vars": {"i": i}} for i in range(7)]})
    response = api.post("/api/v1/contacts/bulk", raw, content_type="application/json")
    assert response.status_code == 202, response.content

    stored = job_payload(response.json()["uuid"])
    pieces = bulk_request_parse_json(raw.encode()).stored_pieces(settings.BULK_CHUNK_SIZE)
    assert stored == payload_of_packed(pieces=pieces, owners={})
    assert bytes(BulkJob.objects.get(pk=response.json()["uuid"]).payload) == stored  # as the ORM reads it


def test_any_bytes_are_stored_and_read_back_unchanged(api):
    job_id = api.post(
        "/api/v1/contacts/bulk", {"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]}, format="json"
    ).json()["uuid"]
    job = BulkJob.objects.get(pk=job_id)
    data = bytes(range(256)) * 3 + b"\x00\\x00'\"" + b"\xff" * 70_000

    job_payload_store(job, data)

    assert job_payload(job_id) == data
    assert bytes(BulkJob.objects.get(pk=job_id).payload) == data


def test_the_payload_of_no_job_is_an_error(db):
    with pytest.raises(BulkJob.DoesNotExist):
        job_payload("00000000-0000-0000-0000-000000000000")
