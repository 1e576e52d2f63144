"""A bulk job's rows as stored: compressed pieces, written once and read by the worker.

The rows are the validated contacts; an `owner` is the email of a user of the account,
whose id the payload's `owners` gives (keys lowercased). The rows are stored in pieces of
a chunk's size, each compressed on its own, so that the worker reads a chunk's rows when
it reaches them (the next chunk's while PostgreSQL writes the current one) instead of all
of them before the first chunk.

Layout: a marker byte (one), the length of the header (4 bytes), the header as JSON
(`{"owners": {...}, "columns": [...], "pieces": [[rows, bytes, facts], ...], "codec":
"lz4"}`), then the pieces one after another, each the `COPY` text of its rows in `columns`
(staged_text.py). Pieces are LZ4 frames: the text of 10,000 rows (~4.6 MB) compresses in
~3.5 ms, content checksum included, on the request's way to its 202, to ~0.54 MB, and
decompresses in ~2 ms (zlib at level 1 took ~4 times as long on JSON rows).

Payloads stored before are still read: pieces of JSON rows by model attribute (marker
zero; no codec for zlib pieces), or one zlib stream (whose first byte is neither).
"""

import json
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

import lz4.frame
import msgspec

from .staged_text import TEXT_COLUMNS, PieceFacts, piece_rows, piece_text
from .upsert import row_with_keys

_STAGED = b"\x01"
_PIECED = b"\x00"
_CODEC = "lz4"
_DECOMPRESS = {"lz4": lz4.frame.decompress, "zlib": zlib.decompress}

# A piece as stored: its number of rows, its text packed, its facts.
StoredPiece = tuple[int, bytes, PieceFacts]


def stored_pieces(columns: dict[str, Sequence], *, count: int, size: int) -> list[StoredPiece]:
    """`count` validated contacts as pieces of `size` rows (the last shorter): `columns` as
    staged_text.piece_text takes them."""
    pieces = []
    for start in range(0, count, size):
        rows = min(size, count - start)
        text, facts = piece_text({name: values[start : start + rows] for name, values in columns.items()}, rows)
        pieces.append((rows, _packed(text), facts))
    return pieces


def _packed(data: bytes) -> bytes:
    """A piece's text as stored."""
    # A checksum of each piece's content, as zlib's had: a damaged payload fails its job
    # rather than apply other rows than those accepted.
    return lz4.frame.compress(data, content_checksum=True)


def payload_of_packed(*, pieces: list[StoredPiece], owners: dict[str, int]) -> bytes:
    """The payload of pieces already packed."""
    listed = [[count, len(data), facts] for count, data, facts in pieces]
    header = msgspec.json.encode({"owners": owners, "columns": TEXT_COLUMNS, "pieces": listed, "codec": _CODEC})
    return b"".join([_STAGED, len(header).to_bytes(4, "big"), header, *(data for _, data, _ in pieces)])


class StoredRows:
    """A payload's owners, its pieces' row counts, each piece's rows on demand (as piece_rows
    reads them), and the text of those that can be copied as they are."""

    def __init__(self, data: bytes | memoryview):
        data = memoryview(data)
        self._texts: list[Callable[[], tuple[bytes, PieceFacts]] | None] = []
        if data[:1] not in (_STAGED, _PIECED):
            self.owners, rows = _legacy_unpack(data)
            self.counts = [len(rows)]
            self._pieces: list[Callable[[], list[dict]]] = [lambda: rows]
            self._texts = [None]
            return
        size = int.from_bytes(data[1:5], "big")
        header = json.loads(bytes(data[5 : 5 + size]))
        self.owners = header["owners"]
        self.counts = [piece[0] for piece in header["pieces"]]
        decompress = _DECOMPRESS[header.get("codec", "zlib")]
        columns = header.get("columns")
        self._pieces, offset = [], 5 + size
        for _, length, *facts in header["pieces"]:
            packed = data[offset : offset + length]
            offset += length
            if columns is None:
                self._pieces.append(partial(_json_rows, decompress, packed))
                self._texts.append(None)
                continue
            self._pieces.append(partial(_text_rows, decompress, packed, columns))
            facts = msgspec.convert(facts[0], PieceFacts)
            copyable = tuple(columns) == TEXT_COLUMNS and not facts.owners
            self._texts.append(partial(_text, decompress, packed, facts) if copyable else None)

    def piece(self, index: int) -> list[dict]:
        return self._pieces[index]()

    def text(self, index: int) -> tuple[bytes, PieceFacts] | None:
        """The piece's text and facts, if it can be copied as it is: in the columns a chunk's
        rows are staged in, and naming no owner."""
        text = self._texts[index]
        return None if text is None else text()


def _text(decompress: Callable[[bytes], bytes], data: memoryview, facts: PieceFacts) -> tuple[bytes, PieceFacts]:
    return decompress(data), facts


def _text_rows(decompress: Callable[[bytes], bytes], data: memoryview, columns: list[str]) -> list[dict]:
    return piece_rows(decompress(data), columns)


def _json_rows(decompress: Callable[[bytes], bytes], data: memoryview) -> list[dict]:
    return [_json_row_read(row) for row in msgspec.json.decode(decompress(data))]


def _json_row_read(row: dict) -> dict:
    """A row of JSON as piece_rows reads one of text: its date parsed, its keys computed."""
    if "collected_at" in row:
        row["collected_at"] = datetime.fromisoformat(row["collected_at"])
    return row_with_keys(row)


def _legacy_unpack(data: memoryview) -> tuple[dict[str, int], list[dict]]:
    stored = msgspec.json.decode(zlib.decompress(data))
    if isinstance(stored, list):  # stored before owners were kept apart: rows carry owner_id
        return {}, [_json_row_read(row) for row in stored]
    return stored["owners"], [_json_row_read(row) for row in stored["rows"]]
