"""Contact ids: UUIDv7 (RFC 9562), which begin with the time they were made.

A random id (v4) puts each new contact at a random page of the primary key's index, so a
job creating thousands dirties (and logs) a page of the index for nearly each of them;
ids that grow go to its right-hand end, one page after another. PostgreSQL inserts 2,500
of a bulk job's contacts in ~30 ms this way against ~39 with `gen_random_uuid()`, and
updates them later in ~16 against ~19 (docs/performance.md).

The contacts one statement creates share the id's first 112 bits, random but for the
time and the version, and count by their row's place in the statement in the last 16
(RFC 9562's counter in rand_b): 58 random bits apart from any other statement's of the
same millisecond, and in the statement's own order.
"""

import os
import time
import uuid

_VERSION = 0x7 << 76
_VARIANT = 0b10 << 62
_RANDOM_LOW = ((1 << 62) - 1) & ~0xFFFF  # rand_b but its last 16 bits, the statement's counter
# A statement's rows count up from 0 in those 16 bits: a statement creates at most a
# chunk's contacts, at most a job's (contacts.bulk_input.MAX_CONTACTS, 10,000).


def contact_id() -> uuid.UUID:
    """A new contact's id, made here (for contacts created one by one, or in memory)."""
    random = int.from_bytes(os.urandom(10))
    value = _milliseconds() << 80 | (random >> 62 & 0xFFF) << 64 | random & ((1 << 62) - 1)
    return uuid.UUID(int=value | _VERSION | _VARIANT)


def statement_ids() -> tuple[str, int]:
    """The ids of the contacts one statement creates: the hex digits of their first 64
    bits, and their last 64 bits as a signed bigint to add the row's place to. In SQL:
    `(%(high)s || to_hex(CAST(%(low)s AS bigint) + place))::uuid` (the bigint is negative,
    its top bit being the variant's: to_hex writes all 16 digits of it)."""
    random = int.from_bytes(os.urandom(8))
    high = _milliseconds() << 16 | 0x7 << 12 | random & 0xFFF
    low = _VARIANT | random & _RANDOM_LOW  # bits 16 to 61: none of those taken above
    return f"{high:016x}", low - (1 << 64)


def _milliseconds() -> int:
    return time.time_ns() // 1_000_000
