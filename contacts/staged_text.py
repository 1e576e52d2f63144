"""A payload's piece as the text PostgreSQL's `COPY` reads into a chunk's staged rows.

A piece is made once, where the body is validated, and copied as it is by the worker: the
worker then spends no Python per row on a chunk (decoding JSON rows, computing their keys
and `COPY` tuples took it ~16 ms per 2,500 rows, and psycopg ~7 more to send the tuples;
the text costs the validation ~6-9 ms per 5,000 rows more than JSON did). Its lines are the
staged rows' columns (TEXT_COLUMNS) in `COPY`'s text format: a row's place in its piece,
the mask of the fields it gives (bit i for GIVEN_FIELDS[i]), its owner, its keys, its
`vars` as JSON, then the fields. A piece whose rows name an owner holds the owner's email
where the owner's id goes (ids are looked up after validation): such a piece is read back
into rows (`piece_rows`), as is any piece the worker cannot copy as it is.

Values go column by column where they can (a column of text joined, checked and escaped at
once), row by row where they must (a column mixing given and absent fields). Django-free:
the validation helper process imports it.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from itertools import repeat
from operator import itemgetter

import msgspec
from msgspec import UNSET

from .fields import CONTACT_FIELDS
from .normalize import email_key, email_keys_of_plain, linkedin_key, linkedin_keys_of_plain

# The fields a row gives or leaves out, told apart by its mask; an owner and `vars` are
# never null, so an absent one is a null.
GIVEN_FIELDS = tuple(f.attr for f in CONTACT_FIELDS if f.kind not in ("owner", "vars"))
TEXT_COLUMNS = ("pos", "given", "owner_id", "email_key", "linkedin_key", "vars", *GIVEN_FIELDS)
_NULL = "\\N"
_PLACES = tuple(map(str, range(10_001)))  # a row's place, as text: a piece holds no more rows
_JSON = msgspec.json.encode


class PieceFacts(msgspec.Struct, array_like=True, frozen=True):
    """What the worker needs to know of a piece without reading its rows.

    `distinct`: no email key nor LinkedIn key carried by two of its rows (condition (a) of
    upsert_sql.py). `owners`: a row names an owner. `shape`: the fields every row gives
    (with its keys), if every row has an email, all give the same fields, none sets a
    `vars` key to null and none names an owner (upsert_direct.py), else None."""

    distinct: bool
    owners: bool
    shape: tuple[str, ...] | None


def piece_text(columns: dict[str, Sequence], count: int) -> tuple[bytes, PieceFacts]:
    """The text of `count` rows given as columns (each field's values in row order by model
    attribute, UNSET where a row leaves the field out; `collected_at` as datetimes), and its
    facts."""
    if count > len(_PLACES):
        raise ValueError(f"a piece holds at most {len(_PLACES)} rows")
    texts, given, uniform = _fields_text(columns, count)
    texts["pos"], texts["given"] = _PLACES[:count], given
    emails = _keys(columns["email"], email_key, email_keys_of_plain)
    linkedins = _keys(columns["linkedin_url"], linkedin_key, linkedin_keys_of_plain)
    texts["email_key"], texts["linkedin_key"] = _text(emails), _text(linkedins)
    owners = columns["owner"]
    named = owners.count(UNSET) != count
    texts["owner_id"] = _text(owners) if named else [_NULL] * count
    texts["vars"], vars_given, vars_null = _vars(columns["vars"], count)
    shape = None
    if uniform and not named and vars_given in (0, count) and not vars_null and all(emails):
        shape = _shape(int(given[0]) if count else 0, vars_given=bool(vars_given))
    facts = PieceFacts(distinct=_distinct(emails) and _distinct(linkedins), owners=named, shape=shape)
    lines = map("\t".join, zip(*(texts[column] for column in TEXT_COLUMNS), strict=True))
    return ("\n".join(lines) + "\n").encode() if count else b"", facts


def _fields_text(columns: dict[str, Sequence], count: int) -> tuple[dict[str, Sequence[str]], list[str], bool]:
    """The GIVEN_FIELDS columns as COPY text, each row's mask as text, and whether every
    row gives the same fields."""
    texts: dict[str, Sequence[str]] = {}
    base, masks, uniform = 0, None, True
    for bit, name in enumerate(GIVEN_FIELDS):
        values = _dates_stored(columns[name]) if name == "collected_at" else columns[name]
        text = _all_text(values)
        if text is None:  # nulls, or fields left out
            given = [value is not UNSET for value in values]
            if all(given):
                base |= 1 << bit
            elif any(given):
                uniform = False
                masks = masks or [0] * count
                for row, is_given in enumerate(given):
                    if is_given:
                        masks[row] |= 1 << bit
            text = _text(values)
        elif count:
            base |= 1 << bit
        texts[name] = text
    return texts, [str(base)] * count if masks is None else [str(mask | base) for mask in masks], uniform


def _shape(given: int, *, vars_given: bool) -> tuple[str, ...]:
    """The fields of a row of this mask (with `vars`, or not), with its keys."""
    fields = [name for bit, name in enumerate(GIVEN_FIELDS) if given >> bit & 1]
    keys = ["email_key", *(["linkedin_key"] if "linkedin_url" in fields else [])]
    return tuple(sorted([*fields, *keys, *(["vars"] if vars_given else [])]))


def piece_rows(text: bytes, columns: Sequence[str]) -> list[dict]:
    """The rows of a piece's text in `columns` (the TEXT_COLUMNS it was made with), as rows
    are applied: by model attribute, the fields a row gives, its keys for the email and
    LinkedIn URL it gives, `owner` the email of the owner it names."""
    lines = text.decode().split("\n")[:-1]
    if not lines:
        return []
    read = dict(zip(columns, map(_read, zip(*(line.split("\t") for line in lines), strict=True)), strict=True))
    dates = {value: datetime.fromisoformat(value) for value in set(read["collected_at"]) if value is not None}
    read["collected_at"] = [dates.get(value) for value in read["collected_at"]]
    given_vars = [value for value in read["vars"] if value is not None]
    if given_vars:  # all at once: one decoding
        decoded = iter(msgspec.json.decode("[" + ",".join(given_vars) + "]"))
        read["vars"] = [None if value is None else next(decoded) for value in read["vars"]]
    read["owner"] = read["owner_id"]
    return _rows_made(read, len(lines), given_fields=columns[6:])


def _rows_made(read: dict[str, Sequence], count: int, *, given_fields: Sequence[str]) -> list[dict]:
    """The rows of columns read back (`given_fields`: the fields by bit of the mask)."""
    owners, vars_ = read["owner"].count(None), read["vars"].count(None)
    if len(set(read["given"])) == 1 and owners in (0, count) and vars_ in (0, count):
        # One shape (most pieces): rows made without Python per row.
        names = _row_names(int(read["given"][0]), not owners, not vars_, given_fields)
        if not names:
            return [{} for _ in range(count)]
        return list(map(dict, map(zip, repeat(names), zip(*(read[name] for name in names)))))
    order = [*given_fields, "owner", "vars", "email_key", "linkedin_key"]
    shapes = {}
    rows = []
    for given, record in zip(map(int, read["given"]), zip(*(read[name] for name in order))):
        shape = (given, record[-4] is not None, record[-3] is not None)
        if (made := shapes.get(shape)) is None:
            made = shapes[shape] = _row_maker(_row_names(*shape, given_fields), order)
        rows.append(made(record))
    return rows


def _row_names(given: int, owner: bool, vars_: bool, given_fields: Sequence[str]) -> list[str]:
    """The names a row of this shape has."""
    names = [name for bit, name in enumerate(given_fields) if given >> bit & 1]
    names += ["owner"] * owner + ["vars"] * vars_
    return names + ["email_key"] * ("email" in names) + ["linkedin_key"] * ("linkedin_url" in names)


def _row_maker(names: list[str], order: list[str]):
    """What makes the row of these names of a record (values in `order`)."""
    if not names:
        return lambda record: {}
    pick = itemgetter(*[order.index(name) for name in names])
    if len(names) == 1:
        return lambda record: {names[0]: pick(record)}
    return lambda record: dict(zip(names, pick(record)))


def _read(values: Sequence[str]) -> Sequence[str | None]:
    """A column of COPY text read back."""
    if values.count(_NULL) == len(values):
        return [None] * len(values)
    if "\\" not in "".join(values):
        return values
    return [_unescaped(value) if "\\" in value else value for value in values]


def _all_text(values: Sequence) -> Sequence[str] | None:
    """The values as COPY text, if they are all strings (most columns: one join, no Python
    per value), else None."""
    try:
        joined = "\x00".join(values)  # validated text holds no NUL
    except TypeError:
        return None
    if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
        return _escaped(joined).split("\x00")
    return values


def _text(values: Sequence) -> Sequence[str]:
    """The values as COPY text, None and UNSET as its null."""
    if (text := _all_text(values)) is not None:
        return text
    present = [value for value in values if value is not None and value is not UNSET]
    escaped = iter(_all_text(present) or ())
    return [_NULL if value is None or value is UNSET else next(escaped) for value in values]


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


_UNESCAPED = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def _unescaped(value: str) -> str | None:
    if value == _NULL:
        return None
    out, i = [], 0
    while (mark := value.find("\\", i)) != -1:
        out += [value[i:mark], _UNESCAPED[value[mark + 1]]]
        i = mark + 2
    return "".join([*out, value[i:]])


def _dates_stored(values: Sequence) -> list:
    """collected_at as text: each distinct instant in ISO 8601 with its offset, which
    PostgreSQL reads whatever its session's time zone."""
    stored = {UNSET: UNSET}
    for value in set(values) - {UNSET}:
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError(f"collected_at must be a datetime with a time zone, not {value!r}")
        stored[value] = value.isoformat()
    return list(map(stored.__getitem__, values))


def _keys(values: Sequence, key: Callable[[str | None], str | None], of_plain) -> list[str | None]:
    """The keys of the values given (None for one absent or null): by `of_plain` for a
    column of plain values (normalize.py), else one by one."""
    try:
        joined = "\n".join(values)
    except TypeError:  # nulls, or fields left out
        joined = None
    if joined is not None and (keys := of_plain(joined, len(values))) is not None:
        return keys
    return [None if value is UNSET else key(value) for value in values]


def _vars(values: Sequence, count: int) -> tuple[list[str], int, bool]:
    """The `vars` column as COPY text, how many rows give `vars`, and whether one sets a
    key to null."""
    given = [value for value in values if value is not UNSET]
    if not given:
        return [_NULL] * count, 0, False
    encoded = _JSON(given).decode()
    # Objects of scalars, one after the other: cut where one ends and the next begins, if
    # no text inside them holds what such a cut looks for.
    if encoded[1:-1].count("},{") == len(given) - 1:
        texts = encoded[1:-1].replace("},{", "}\x00{").split("\x00")
    else:
        texts = [_JSON(value).decode() for value in given]
    null = ":null" in encoded and any(None in value.values() for value in given)
    if len(given) < count:
        given_texts = iter(texts)
        texts = [UNSET if value is UNSET else next(given_texts) for value in values]
    return _text(texts), len(given), null


def _distinct(keys: list[str | None]) -> bool:
    held = keys if None not in keys and "" not in keys else [key for key in keys if key]
    return len(set(held)) == len(held)
