"""A bulk job's rows as stored: compressed JSON in pieces, written once and read by the worker.

The rows are the validated contacts, by model attribute; an `owner` is the email of a user
of the account, whose id the payload's `owners` gives (keys lowercased). The rows are
stored in pieces of a chunk's size, each compressed on its own, so that the worker decodes
a chunk's rows when it reaches them (the next chunk's while PostgreSQL writes the current
one) instead of all of them before the first chunk.

Layout: a zero byte, the length of the header (4 bytes), the header as JSON
(`{"owners": {...}, "pieces": [[rows, bytes], ...]}`), then the pieces one after another.
Earlier payloads are one zlib stream (whose first byte is never zero): one piece.
"""

import json
import zlib

from pydantic_core import from_json

_PIECED = b"\x00"


def payload_pack(*, pieces: list[tuple[int, bytes]], owners: dict[str, int]) -> bytes:
    """The payload of `pieces`, each (its number of rows, its rows as a JSON array)."""
    # Level 1: twenty times smaller than the JSON at a few percent of the cost of level 6.
    compressed = [zlib.compress(rows_json, 1) for _, rows_json in pieces]
    header = json.dumps(
        {"owners": owners, "pieces": [[count, len(data)] for (count, _), data in zip(pieces, compressed)]}
    ).encode()
    return b"".join([_PIECED, len(header).to_bytes(4, "big"), header, *compressed])


class StoredRows:
    """A payload's owners, its pieces' row counts, and each piece's rows on demand."""

    def __init__(self, data: bytes | memoryview):
        data = memoryview(data)
        if data[:1] != _PIECED:
            self.owners, self._legacy_rows = _legacy_unpack(data)
            self.counts = [len(self._legacy_rows)]
            return
        size = int.from_bytes(data[1:5], "big")
        header = json.loads(bytes(data[5 : 5 + size]))
        self.owners = header["owners"]
        self.counts = [count for count, _ in header["pieces"]]
        self._spans, offset = [], 5 + size
        for _, length in header["pieces"]:
            self._spans.append(data[offset : offset + length])
            offset += length

    def piece(self, index: int) -> list[dict]:
        if not hasattr(self, "_spans"):
            return self._legacy_rows
        # Caching only the keys: a third faster than caching every string too.
        return from_json(zlib.decompress(self._spans[index]), cache_strings="keys")


def _legacy_unpack(data: memoryview) -> tuple[dict[str, int], list[dict]]:
    stored = from_json(zlib.decompress(data), cache_strings="keys")
    if isinstance(stored, list):  # stored before owners were kept apart: rows carry owner_id
        return {}, stored
    return stored["owners"], stored["rows"]
