"""A large body validated in halves, the second by the server process's helper process,
gives the service exactly what validating it whole gives; a body with problems gets the
whole body's errors; a helper that is busy or gone leaves the request to validate alone."""

import json
import os
import signal
import subprocess
import sys

import msgspec
import pytest

from contacts import validation_helper
from contacts.bulk_input import BodyProblems, bulk_request_parse_json
from contacts.validation_helper import (
    _HELPER,
    SPLIT_FROM,
    HalvesBulkRequest,
    _sent_within,
    _split,
    bulk_request_validate,
    helper_ready,
)
from tests.conftest import ROOT
from tests.live import wait_for

SIZE = 500


def _contact(i: int) -> dict:
    contact = {
        "email": f"Person{i}@Example.com",
        "firstName": f"First {i}",
        "linkedinUrl": f"https://www.linkedin.com/in/person-{i}/",
        "collectedAt": "2026-11-01T10:00:00Z",
        "vars": {"rank": i, "ratio": i / 7, "flag": i % 2 == 0, "gone": None},
    }
    if i % 3 == 0:
        contact["owner"] = f"Owner{i % 5}@example.com"
    if i % 4 == 0:
        contact["source"] = "connect"
    return contact


def _body(count: int, **changes) -> bytes:
    contacts = [_contact(i) for i in range(count)]
    for index, contact in changes.items():
        contacts[int(index.removeprefix("at"))] = contact
    return json.dumps({"list": {"name": "Imports"}, "contacts": contacts}).encode()


def _validated_whole(raw: bytes, validated) -> bool:
    """Whether `validated` (bulk_request_validate's) came from validating the body whole."""
    whole = bulk_request_parse_json(raw)
    return not isinstance(validated, HalvesBulkRequest) and validated.stored_pieces(SIZE) == whole.stored_pieces(SIZE)


@pytest.fixture
def helper():
    wait_for(helper_ready, "the validation helper to be ready", timeout=60)
    return _HELPER


def test_a_large_body_validated_in_halves_gives_the_service_what_the_whole_body_gives(helper):
    raw = _body(SPLIT_FROM + 333)
    halves = bulk_request_validate(raw, size=SIZE)
    whole = bulk_request_parse_json(raw)
    assert isinstance(halves, HalvesBulkRequest)
    assert halves.list == whole.list
    assert halves.total == whole.total == SPLIT_FROM + 333
    assert halves.owner_refs() == whole.owner_refs()
    assert halves.sources() == whole.sources() == {None, "connect"}
    assert halves.stored_pieces(SIZE) == whole.stored_pieces(SIZE)  # the payload's pieces, byte for byte


@pytest.mark.parametrize("where", ["first", "second", "both"])
def test_a_large_body_with_problems_gets_the_errors_of_the_whole_body(helper, where):
    count = SPLIT_FROM + 100
    bad = {}
    if where in ("first", "both"):
        bad["at3"] = {"email": "not an email", "vars": {"": 1}}
    if where in ("second", "both"):
        bad[f"at{count - 2}"] = {"firstName": "no key at all"}
    raw = _body(count, **bad)
    with pytest.raises(BodyProblems) as whole:
        bulk_request_parse_json(raw)
    with pytest.raises(BodyProblems) as halves:
        bulk_request_validate(raw, size=SIZE)
    assert halves.value.errors == whole.value.errors
    assert helper_ready()  # the helper answered and is free for the next body


@pytest.mark.parametrize(
    "raw",
    [
        # A second `contacts` wins, as in the whole body's parsing.
        b'{"list": {"name": "L"}, "contacts": [{"email": "a@b.c"}], ' + _body(SPLIT_FROM).split(b", ", 1)[1],
        # A field the body does not have: validated whole, which names it.
        _body(SPLIT_FROM)[:-1] + b', "extra": 1}',
        # Not one JSON document.
        _body(SPLIT_FROM) + b" []",
        # A first `contacts` or `list`, shadowed by the second but parsed all the same as a
        # whole body: invalid UTF-8 in it is a 400.
        b'{"contacts": [{"email": "\xff"}], ' + _body(SPLIT_FROM)[1:],
        b'{"list": {"name": "\xff"}, ' + _body(SPLIT_FROM)[1:],
        # The same key spelled with an escape.
        b'{"\\u0063ontacts": [{"email": "\xff"}], ' + _body(SPLIT_FROM)[1:],
        b'{"\\u0063ontacts": [{"email": "a@b.co"}], ' + _body(SPLIT_FROM)[1:],
    ],
    ids=[
        "repeated contacts", "unknown field", "trailing data", "shadowed contacts, invalid UTF-8",
        "shadowed list, invalid UTF-8", "escaped shadowed contacts, invalid UTF-8", "escaped shadowed contacts",
    ],
)
def test_a_body_of_another_shape_gets_the_same_verdict_as_validated_whole(helper, raw):
    try:
        whole = bulk_request_parse_json(raw)
    except BodyProblems as problems:
        with pytest.raises(BodyProblems) as halves:
            bulk_request_validate(raw, size=SIZE)
        assert halves.value.errors == problems.errors
    else:  # halved or not (a key given twice is validated whole), what the whole body gives
        validated = bulk_request_validate(raw, size=SIZE)
        assert validated.total == whole.total
        assert validated.stored_pieces(SIZE) == whole.stored_pieces(SIZE)


def test_a_body_arriving_while_the_helper_validates_another_is_validated_whole(helper):
    raw = _body(SPLIT_FROM + 10)
    assert _HELPER.taken() is helper  # another request's half
    try:
        validated = bulk_request_validate(raw, size=SIZE)
    finally:
        _HELPER.give_back()
    assert _validated_whole(raw, validated)


def test_a_helper_killed_leaves_the_body_validated_whole_and_a_new_helper_takes_the_next(helper):
    raw = _body(SPLIT_FROM + 10)
    dead = helper._process
    os.kill(dead.pid, signal.SIGKILL)
    dead.wait()
    assert _validated_whole(raw, bulk_request_validate(raw, size=SIZE))
    wait_for(helper_ready, "a new validation helper", timeout=60)
    assert helper._process.pid != dead.pid
    assert isinstance(bulk_request_validate(raw, size=SIZE), HalvesBulkRequest)


def test_a_small_body_is_validated_whole(helper):
    assert not isinstance(bulk_request_validate(_body(SPLIT_FROM - 1), size=SIZE), HalvesBulkRequest)


def test_a_helper_whose_server_has_gone_exits_quietly():
    # The server stopped while its helper was starting: the helper's first word finds no reader.
    to_read, to_write = os.pipe()
    from_read, from_write = os.pipe()
    helper = subprocess.Popen(
        [sys.executable, "-m", "contacts.validation_helper", str(to_read), str(from_write)],
        pass_fds=(to_read, from_write), cwd=ROOT, stderr=subprocess.PIPE,
    )
    for fd in (to_read, from_write, to_write, from_read):
        os.close(fd)
    _, stderr = helper.communicate(timeout=60)
    assert (helper.returncode, stderr) == (0, b"")


def test_an_answer_no_request_waits_for_is_never_taken_for_another_bodys_half(helper):
    # A request that stopped between sending its half and reading the answer (an error of
    # its own) leaves that answer in the pipe; the next body, of as many contacts, must not
    # get it: its second half would be the other request's contacts.
    count = SPLIT_FROM + 20
    stale, middle = _split(_body(count, **{f"at{count - 1}": {"email": "stale@example.com"}}), SIZE)
    half = b"[" + b",".join(stale.contacts[middle:]) + b"]"
    assert _sent_within(helper._to, [msgspec.msgpack.encode((10**9, middle, SIZE)), half], 5)
    raw = _body(count)

    assert _validated_whole(raw, bulk_request_validate(raw, size=SIZE))
    wait_for(helper_ready, "a new validation helper", timeout=60)
    assert isinstance(bulk_request_validate(raw, size=SIZE), HalvesBulkRequest)


def test_a_helper_that_stops_reading_leaves_the_body_validated_whole_in_bounded_time(helper, monkeypatch):
    monkeypatch.setattr(validation_helper, "ANSWER_WITHIN", 0.5)
    raw = _body(10_000)  # a second half of ~1.2 MB: more than the pipe holds
    stopped = helper._process
    os.kill(stopped.pid, signal.SIGSTOP)
    try:
        validated = bulk_request_validate(raw, size=SIZE)
    finally:
        stopped.kill()
    assert _validated_whole(raw, validated)
