"""A large bulk body validated in two halves at once: the request's thread validates the
first half while a helper process validates the second.

pydantic-core holds the GIL for the whole of a validation, so a thread could not share the
work; a process can, on another core. Each server process starts one helper on its first
large body and talks to it through two pipes. Until the helper says it is ready, while it
validates another request's half, and once it has died, a request validates its whole body
itself, as it always did.

Only a body both halves accept is taken this way. Any problem in either half, and the body
is validated whole again, by the one path that reports problems: a body's errors are the
same however it was validated. The halves meet at a multiple of the chunk size, so the
payload's pieces are those the whole body would give (each half encodes its own).

Run as `python -m contacts.validation_helper <read fd> <write fd>` by the server process;
it imports the validator and nothing of Django's set-up.
"""

import fcntl
import logging
import os
import re
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

import msgspec
from pydantic import TypeAdapter, ValidationError

from .bulk_input import (
    MAX_CONTACTS,
    BulkBody,
    ContactItems,
    bulk_request_parse_json,
    bulk_request_valid,
    contacts_owner_refs,
    contacts_sources,
    contacts_stored_pieces,
)
from .common_contacts import CommonList, common_contacts
from .payload import StoredPiece

logger = logging.getLogger(__name__)

# Below this many contacts splitting the body and the pipes cost more than half a
# validation saves.
SPLIT_FROM = 2000
# A helper that has not said it is ready after this long, or that has not answered a half
# after this long (a half takes ~50 ms), is stopped (the request validates the body itself).
READY_WITHIN = 30.0
ANSWER_WITHIN = 5.0
# A helper that fails is replaced at once; one failing again before it was ready (say, it
# cannot start) is replaced after 1, 2, 4... seconds, at most this many, so a broken helper
# costs no process start per request.
RESTART_AFTER_AT_MOST = 30.0
_READY = b"ready"
_PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _Body(msgspec.Struct, forbid_unknown_fields=True):
    """The body's list, and its contacts as their JSON text: splitting a body costs finding
    where each contact ends (~5 ms for 10,000). A body of any other shape is validated whole."""

    list: CommonList
    contacts: list[msgspec.Raw]


# A key spelled with an escaped ASCII letter ("\u0063ontacts"), which a count of the plain
# spelling would miss.
_ESCAPED_LETTER = re.compile(rb"\\u00[4-7][0-9a-fA-F]")


class _Half(msgspec.Struct, array_like=True):
    """What the helper answers for the contacts it validated, indexes counted in the body."""

    ticket: int  # the half's own, as sent: an answer is never taken for another half's
    count: int
    pieces: list[StoredPiece]
    owner_refs: list[tuple[int, str]]
    sources: list[str | None]


class HalvesBulkRequest:
    """A body validated in halves: the first as a whole body is, the second as the helper's
    answer. Read by the service as a BulkRequest is (bulk_input.BulkBody)."""

    def __init__(self, first: BulkBody, first_pieces: list[StoredPiece], second: _Half, *, size: int):
        self.list = first.list
        self.total = first.total + second.count
        self._first, self._first_pieces, self._second, self._size = first, first_pieces, second, size

    def owner_refs(self) -> list[tuple[int, str]]:
        return self._first.owner_refs() + [tuple(ref) for ref in self._second.owner_refs]

    def sources(self) -> set[str | None]:
        return self._first.sources() | set(self._second.sources)

    def stored_pieces(self, size: int) -> list[StoredPiece]:
        if size != self._size:
            raise ValueError(f"validated in pieces of {self._size} rows, not {size}")
        return self._first_pieces + self._second.pieces


def bulk_request_validate(raw: bytes, *, size: int, helper_wanted: bool = True):
    """The raw body validated, as bulk_request_parse_json does (BodyProblems if it is not
    valid), in halves at once when it is large and the helper is free. `size`: the rows of
    a payload's piece."""
    split = _split(raw, size) if helper_wanted else None
    if split is not None and (helper := _HELPER.taken()) is not None:
        try:
            validated = helper.validate(*split, size=size)
        finally:
            _HELPER.give_back()
        if validated is not None:
            return validated
    return bulk_request_parse_json(raw)


def helper_ready() -> bool:
    """Whether this process's helper is ready for a half; starts it if it is not running."""
    if _HELPER.taken() is None:
        return False
    _HELPER.give_back()
    return True


def _split(raw: bytes, size: int) -> tuple[_Body, int] | None:
    """The body's fields and where its second half starts, if it is worth halving."""
    if len(raw) < SPLIT_FROM * 16:  # too short to hold SPLIT_FROM contacts with a key each
        return None
    # Given twice, `contacts` would have its first value skipped over unchecked, where the
    # whole body's parsing checks it (invalid UTF-8 in it is a 400): such a body, or one
    # that may be it, is validated whole.
    if raw.count(b'"contacts"') != 1 or (b"\\" in raw and _ESCAPED_LETTER.search(raw)):
        return None
    try:
        body = msgspec.json.decode(raw, type=_Body)
    except (msgspec.DecodeError, RecursionError):  # nested past msgspec's depth: whole, pydantic-core says why
        return None
    count = len(body.contacts)
    middle = size * round(count / (2 * size))
    if not SPLIT_FROM <= count <= MAX_CONTACTS or not 0 < middle < count:
        return None
    return body, middle


class _Helper:
    """The helper process of this server process: started on first use, lent to one
    request at a time, started again on a later use once it has died."""

    def __init__(self):
        self._lock = threading.Lock()
        self._lent = False
        self._process: subprocess.Popen | None = None
        self._to: int | None = None  # the write end of the pipe to the helper, non-blocking
        self._from: Connection | None = None
        self._ready = False
        self._started_at = 0.0
        self._tickets = 0
        self._failures = 0  # since the last helper that got ready
        self._start_after = 0.0

    def taken(self) -> "_Helper | None":
        """The helper, lent to the caller until give_back; None if it is not available."""
        with self._lock:
            if self._lent:
                return None
            if self._process is not None and self._process.poll() is not None:
                self._failed("stopped")
            if self._process is None:
                if time.monotonic() >= self._start_after:
                    self._start()
                return None
            if not self._ready and not self._ready_now():
                return None
            self._lent = True
            return self

    def give_back(self) -> None:
        with self._lock:
            self._lent = False

    def validate(self, body: _Body, middle: int, *, size: int) -> HalvesBulkRequest | None:
        """Both halves validated, or None: a half has a problem, or the helper failed."""
        second = b"[" + b",".join(body.contacts[middle:]) + b"]"
        self._tickets += 1
        ticket = self._tickets
        try:
            sent = _sent_within(self._to, [msgspec.msgpack.encode((ticket, middle, size)), second], ANSWER_WITHIN)
        except OSError:
            sent = False
        if not sent:
            self._failed("could not be sent a half")
            return None
        try:
            first = (
                b'{"list":' + msgspec.json.encode(body.list) + b',"contacts":[' + b",".join(body.contacts[:middle]) + b"]}"
            )
            first_validated = bulk_request_valid(first)
            if first_validated is not None:  # while the helper finishes its half
                first_pieces = first_validated.stored_pieces(size)
            answer = self._answer(ticket, count=len(body.contacts) - middle)
        except BaseException:
            # Its answer would be read by the next request: the helper goes instead.
            self._failed("was left with a half no request waits for")
            raise
        if first_validated is None or answer is None:
            return None
        return HalvesBulkRequest(first_validated, first_pieces, answer, size=size)

    def _answer(self, ticket: int, *, count: int) -> _Half | None:
        """The answer for this half: its ticket's, of its count of contacts, or None (also
        for a half with a problem)."""
        try:
            if not self._from.poll(ANSWER_WITHIN):
                self._failed(f"did not answer within {ANSWER_WITHIN:.0f} s")
                return None
            answer = msgspec.msgpack.decode(self._from.recv_bytes(), type=_Half | int)
        except (OSError, EOFError, msgspec.DecodeError):
            self._failed("stopped, or answered what is not an answer")
            return None
        answered = answer if isinstance(answer, int) else answer.ticket  # an int: the half's problem
        if answered != ticket or (not isinstance(answer, int) and answer.count != count):
            self._failed("answered another half")
            return None
        return None if isinstance(answer, int) else answer

    def _ready_now(self) -> bool:
        try:
            if self._from.poll() and self._from.recv_bytes() == _READY:
                self._ready = True
                self._failures = 0
                return True
        except (OSError, EOFError):
            pass
        if time.monotonic() - self._started_at > READY_WITHIN:
            self._failed(f"was not ready within {READY_WITHIN:.0f} s")
        return False

    def _start(self) -> None:
        self._stop()
        to_read, to_write = os.pipe()
        from_read, from_write = os.pipe()
        _pipe_widened(to_write)
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "contacts.validation_helper", str(to_read), str(from_write)],
                pass_fds=(to_read, from_write),
                cwd=_PROJECT_ROOT,
                stdin=subprocess.DEVNULL,
            )
        except OSError:
            logger.exception("The validation helper could not be started")
            for fd in (to_read, to_write, from_read, from_write):
                os.close(fd)
            self._failed("could not be started")
            return
        os.close(to_read)
        os.close(from_write)
        os.set_blocking(to_write, False)
        self._to = to_write
        self._from = Connection(from_read, writable=False)
        self._ready = False
        self._started_at = time.monotonic()

    def _failed(self, what: str) -> None:
        self._stop()
        self._failures += 1
        wait = 0.0 if self._failures == 1 else min(2.0 ** (self._failures - 2), RESTART_AFTER_AT_MOST)
        self._start_after = time.monotonic() + wait
        logger.warning("The validation helper %s; another starts in %.0f s", what, wait)

    def _stop(self) -> None:
        if self._to is not None:
            os.close(self._to)
        if self._from is not None:
            self._from.close()
        self._to = self._from = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            self._process = None
        self._ready = False


_HELPER = _Helper()


def _sent_within(fd: int, messages: list[bytes], seconds: float) -> bool:
    """Write the messages to the helper's non-blocking pipe, each framed as its
    Connection.recv_bytes reads them; False if it has not taken them all within `seconds`
    (a helper that stopped reading: stopped by a signal, say)."""
    deadline = time.monotonic() + seconds
    for part in (piece for message in messages for piece in (struct.pack("!i", len(message)), message)):
        view = memoryview(part)
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([], [fd], [], left)[1]:
                    return False
    return True


def _pipe_widened(fd: int) -> None:
    """A pipe of 1 MiB rather than 64 KiB (Linux): a 10,000-contact body's second half
    (~3.5 MB) goes to the helper in 2.6 ms rather than 4.1, the request waiting on fewer
    turns of the helper's reads."""
    if hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
        except OSError:  # above the system's pipe-max-size: the default works, a little slower
            pass


def _serve(receive: Connection, answer: Connection) -> None:
    """The helper's loop: a half's place and piece size, its contacts, then the answer;
    until the server process goes away (its end of the pipes closes)."""
    validator = TypeAdapter(ContactItems)
    try:
        answer.send_bytes(_READY)
        while True:
            ticket, start, size = msgspec.msgpack.decode(receive.recv_bytes())
            rows = receive.recv_bytes()
            half = _half_validated(validator, rows, ticket=ticket, start=start, size=size)
            answer.send_bytes(msgspec.msgpack.encode(ticket if half is None else half))
    except (EOFError, OSError):
        return


def _half_validated(validator: TypeAdapter, rows: bytes, *, ticket: int, start: int, size: int) -> _Half | None:
    common = common_contacts(rows)
    if common is not None:
        count, pieces, owner_refs, sources = (
            len(common), common.stored_pieces(size), common.owner_refs(start=start), common.sources()
        )
    else:
        try:
            contacts = validator.validate_json(rows)
        except ValidationError:
            return None
        count, pieces, owner_refs, sources = (
            len(contacts),
            contacts_stored_pieces(contacts, size=size),
            contacts_owner_refs(contacts, start=start),
            contacts_sources(contacts),
        )
    return _Half(ticket=ticket, count=count, pieces=pieces, owner_refs=owner_refs, sources=list(sources))


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C stops the server, whose exit stops this
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
