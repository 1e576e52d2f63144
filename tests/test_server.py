"""Our ASGI server (contacts_project.server) hands request bodies to Django whole, whether
it keeps them in memory or, past REQUEST_BODY_IN_MEMORY or of unknown length, in a file."""

import json
from io import BytesIO

import daphne.server
import pytest

from contacts_project.server import REQUEST_BODY_IN_MEMORY, _WebRequest
from tests import factories
from tests.live import job_events



def test_the_server_keeps_bodies_up_to_the_bound_in_memory():
    assert daphne.server.HTTPFactory(server=None).buildProtocol(None).requestFactory is _WebRequest
    kept = {}
    for length in (0, 200_000, REQUEST_BODY_IN_MEMORY, REQUEST_BODY_IN_MEMORY + 1, None):
        request = _WebRequest.__new__(_WebRequest)  # only its body's place is looked at
        request.gotLength(length)
        kept[length] = isinstance(request.content, BytesIO)
        request.content.close()
    assert kept == {0: True, 200_000: True, REQUEST_BODY_IN_MEMORY: True, REQUEST_BODY_IN_MEMORY + 1: False, None: False}


def _padded_body(contacts: list[dict], size: int) -> bytes:
    """A bulk body of `size` bytes: the contacts, then JSON whitespace up to the size."""
    body = json.dumps({"list": {"name": "padded"}, "contacts": contacts}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


@pytest.mark.parametrize(
    "size, chunked",
    [
        (200_000, False),  # over Twisted's own bound for memory (100 kB)
        (REQUEST_BODY_IN_MEMORY, False),  # ours, at the bound: memory
        (REQUEST_BODY_IN_MEMORY + 1, False),  # past it: a temporary file
        (200_000, True),  # no length given: a temporary file
    ],
)
@pytest.mark.django_db(transaction=True)
def test_a_body_reaches_django_whole_in_memory_or_in_a_file(live_service, size, chunked):
    user = factories.user_make(factories.account_make())
    token = factories.token_make(user)
    contacts = [{"email": f"p{i}@example.test", "firstName": "Ann"} for i in range(3)]
    body = _padded_body(contacts, size)
    assert len(body) == size

    with live_service.socket(token=token) as ws, live_service.http(token) as http:
        content = iter([body[: size // 2], body[size // 2 :]]) if chunked else body  # httpx: an iterator goes chunked
        response = http.post("/api/v1/contacts/bulk", content=content, headers={"Content-Type": "application/json"})
        assert response.status_code == 202, response.text
        events = job_events(ws, response.json()["uuid"])

    assert events[-1]["data"]["created"] == 3
