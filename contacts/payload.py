"""A bulk job's rows as stored: compressed JSON in pieces, written once and read by the worker.

The rows are the validated contacts, by model attribute; an `owner` is the email of a user
of the account, whose id the payload's `owners` gives (keys lowercased). The rows are
stored in pieces of a chunk's size, each compressed on its own, so that the worker decodes
a chunk's rows when it reaches them (the next chunk's while PostgreSQL writes the current
one) instead of all of them before the first chunk.

Layout: a zero byte, the length of the header (4 bytes), the header as JSON
(`{"owners": {...}, "pieces": [[rows, bytes], ...], "codec": "lz4"}`), then the pieces one
after another. Pieces are LZ4 frames: 10,000 rows (~6.9 MB of JSON) compress in ~5.5 ms,
content checksum included, against ~19 ms for zlib at level 1, on the request's way to its
202, and decompress in ~4 ms against ~7 ms, for ~1.5 times zlib's size (~0.45 MB).
Payloads stored before have no codec (zlib pieces), or are one zlib stream (whose first
byte is never zero).
"""

import json
import zlib
from collections.abc import Callable
from functools import partial

import lz4.frame
import msgspec

_PIECED = b"\x00"
_CODEC = "lz4"
_DECOMPRESS = {"lz4": lz4.frame.decompress, "zlib": zlib.decompress}


def payload_pack(*, pieces: list[tuple[int, bytes]], owners: dict[str, int]) -> bytes:
    """The payload of `pieces`, each (its number of rows, its rows as a JSON array)."""
    return payload_of_packed(pieces=[(count, piece_packed(rows_json)) for count, rows_json in pieces], owners=owners)


def piece_packed(rows_json: bytes) -> bytes:
    """A piece's JSON as stored."""
    # A checksum of each piece's content, as zlib's had: a damaged payload fails its job
    # rather than apply other rows than those accepted.
    return lz4.frame.compress(rows_json, content_checksum=True)


def payload_of_packed(*, pieces: list[tuple[int, bytes]], owners: dict[str, int]) -> bytes:
    """The payload of pieces already packed, each (its number of rows, piece_packed of its
    rows' JSON)."""
    header = json.dumps(
        {"owners": owners, "pieces": [[count, len(data)] for count, data in pieces], "codec": _CODEC}
    ).encode()
    return b"".join([_PIECED, len(header).to_bytes(4, "big"), header, *(data for _, data in pieces)])


class StoredRows:
    """A payload's owners, its pieces' row counts, and each piece's rows on demand."""

    def __init__(self, data: bytes | memoryview):
        data = memoryview(data)
        if data[:1] != _PIECED:
            self.owners, rows = _legacy_unpack(data)
            self.counts = [len(rows)]
            self._pieces: list[Callable[[], list[dict]]] = [lambda: rows]
            return
        size = int.from_bytes(data[1:5], "big")
        header = json.loads(bytes(data[5 : 5 + size]))
        self.owners = header["owners"]
        self.counts = [count for count, _ in header["pieces"]]
        decompress = _DECOMPRESS[header.get("codec", "zlib")]
        self._pieces, offset = [], 5 + size
        for _, length in header["pieces"]:
            self._pieces.append(partial(_piece_rows, decompress, data[offset : offset + length]))
            offset += length

    def piece(self, index: int) -> list[dict]:
        return self._pieces[index]()


def _piece_rows(decompress: Callable[[bytes], bytes], data: memoryview) -> list[dict]:
    # msgspec: 2,500 rows in ~4.4 ms, against ~7.7 for pydantic-core's from_json.
    return msgspec.json.decode(decompress(data))


def _legacy_unpack(data: memoryview) -> tuple[dict[str, int], list[dict]]:
    stored = msgspec.json.decode(zlib.decompress(data))
    if isinstance(stored, list):  # stored before owners were kept apart: rows carry owner_id
        return {}, stored
    return stored["owners"], stored["rows"]
