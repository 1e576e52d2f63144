"""A payload's piece as `COPY` text (contacts/staged_text.py): read back, it gives the rows
a piece of JSON gave; copied into PostgreSQL, it stages what the tuples of those rows
stage; its facts are what the worker would tell from the rows; its keys are normalize.py's,
however they were computed."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from msgspec import UNSET

from contacts.fields import CONTACT_FIELDS
from contacts.normalize import email_key, linkedin_key
from contacts.staged_text import TEXT_COLUMNS, piece_rows, piece_text
from contacts.upsert_direct import chunk_direct_shape
from contacts.upsert_sql import chunk_copy, chunk_copy_values, chunk_is_distinct, staged_rows_table

# Text as COPY must escape it, and as it must not (a backslash then N is not a null).
text = st.lists(
    st.sampled_from(["a", "Z", "é", "𝄞", " ", "\\", "\t", "\n", "\r", "N", "\\N", "},{", ":null", '"']), max_size=5
).map("".join)
emails = st.sampled_from(["a@example.test", "B@Example.test", " c@example.test ", "d@ex\u00e4mple.test", "a@example.test"])
linkedins = st.sampled_from([
    "https://www.linkedin.com/in/ann", "http://linkedin.com/in/ann/", "https://www.linkedin.com/in/ann//",
    "https://WWW.LinkedIn.com/in/Bob", "https://www.linkedin.com/in/bob?trk=x", "https://www.linkedin.com/in/c#top",
    "https://www.linkedin.com:443/in/dee", "https://www.linkedin.com/in/a://b/", "https://u@www.linkedin.com/in/e",
])
scalar = st.one_of(st.none(), st.integers(-(10**20), 10**20), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), text)
dates = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))
_KINDS = {f.attr: f.kind for f in CONTACT_FIELDS}
_VALUES = {
    "email": st.one_of(st.none(), emails), "linkedin": st.one_of(st.none(), linkedins), "datetime": dates,
    "source": st.sampled_from(["manual", "connect", "import", "api"]), "language": st.sampled_from(["en", "fr"]),
    "owner": st.sampled_from(["boss@example.test", "Boss@Example.test"]),
    "vars": st.dictionaries(text, scalar, max_size=3),
}


@st.composite
def validated_rows(draw, *, owners: bool = True) -> list[dict]:
    """Contacts as validation gives them: by model attribute, the fields they give."""
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        fields = draw(st.lists(st.sampled_from([f.attr for f in CONTACT_FIELDS if owners or f.kind != "owner"]), unique=True))
        rows.append({name: draw(_VALUES.get(_KINDS[name], st.one_of(st.none(), text))) for name in fields})
    return rows


def _columns(rows: list[dict]) -> dict[str, list]:
    return {f.attr: [row.get(f.attr, UNSET) for row in rows] for f in CONTACT_FIELDS}


def _as_applied(row: dict) -> dict:
    """A row as the worker reads it: its keys computed."""
    row = dict(row)
    if "email" in row:
        row["email_key"] = email_key(row["email"])
    if "linkedin_url" in row:
        row["linkedin_key"] = linkedin_key(row["linkedin_url"])
    return row


@settings(max_examples=300, deadline=None)
@given(rows=validated_rows())
@example(rows=[{"email": "a@example.test", "vars": {"k": "},{"}}, {"email": "b@example.test", "vars": {"k": None}}])
@example(rows=[{"first_name": "\\N"}, {"first_name": None}, {}])
def test_a_pieces_text_reads_back_as_its_rows_with_the_facts_they_tell(rows):
    data, facts = piece_text(_columns(rows), len(rows))

    read = piece_rows(data, TEXT_COLUMNS)
    applied = [_as_applied(row) for row in rows]
    assert read == applied
    assert facts.distinct == chunk_is_distinct(applied)
    assert facts.owners == any("owner" in row for row in rows)
    if rows and not facts.owners:
        shape = chunk_direct_shape(applied)
        assert (None if facts.shape is None else frozenset(facts.shape)) == shape
    elif rows:
        assert facts.shape is None


plain_linkedins = st.lists(
    st.builds(
        lambda scheme, host, path, slashes: f"{scheme}://{host}/{path}" + "/" * slashes,
        st.sampled_from(["http", "https"]), st.sampled_from(["www.linkedin.com", "linkedin.com", "fr.linkedin.com:8080"]),
        st.sampled_from(["in/ann", "in/a-b/c", "in/x://y", "in"]), st.integers(0, 3),
    ),
    min_size=1, max_size=8,
)


@settings(max_examples=200, deadline=None)
@given(urls=plain_linkedins, addresses=st.lists(st.sampled_from(["a@b.test", "A.B@C.test", "x+y@d.test"]), min_size=1, max_size=8))
def test_keys_computed_for_a_whole_column_at_once_are_each_values_own(urls, addresses):
    count = min(len(urls), len(addresses))
    rows = [{"email": addresses[i], "linkedin_url": urls[i]} for i in range(count)]

    read = piece_rows(piece_text(_columns(rows), count)[0], TEXT_COLUMNS)

    assert [(row["email_key"], row["linkedin_key"]) for row in read] == [
        (email_key(row["email"]), linkedin_key(row["linkedin_url"])) for row in rows
    ]


def _staged(cursor) -> list[tuple]:
    cursor.execute(f"SELECT * FROM {staged_rows_table()} ORDER BY pos")
    found = cursor.fetchall()
    cursor.execute(f"TRUNCATE {staged_rows_table()}")
    return found


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=validated_rows(owners=False))
@example(rows=[{"collected_at": datetime(2026, 3, 4, 5, 6, 7, 8, tzinfo=timezone(timedelta(hours=-5)))}])
def test_a_pieces_text_copied_stages_what_the_tuples_of_its_rows_stage(rows):
    data, _ = piece_text(_columns(rows), len(rows))

    with connection.cursor() as cursor:
        chunk_copy(cursor, data)
        from_text = _staged(cursor)
        chunk_copy(cursor, chunk_copy_values([_as_applied(row) for row in rows]))
        from_tuples = _staged(cursor)

    assert from_text == from_tuples
