"""Contact ids are UUIDv7 (contacts/ids.py): they begin with the millisecond they were made
in, and those one statement of a bulk job creates count up in the order of its rows."""

import time
import uuid

import pytest
from django.db import connection

from contacts.bulk_input import bulk_request_parse
from contacts.ids import contact_id, statement_ids
from contacts.models import Contact
from contacts.services import BulkFlags, bulk_job_create, bulk_job_process
from contacts.upsert_sql import CREATED_ID
from tests import factories

pytestmark = pytest.mark.django_db


def _milliseconds() -> int:
    return time.time_ns() // 1_000_000


def _is_uuid7_made_between(value: uuid.UUID, first: int, last: int) -> bool:
    return value.version == 7 and value.variant == uuid.RFC_4122 and first <= value.int >> 80 <= last


def test_an_id_made_in_python_is_a_uuid7_of_its_millisecond_with_74_random_bits():
    first = _milliseconds()
    ids = [contact_id() for _ in range(1000)]
    last = _milliseconds()
    assert all(_is_uuid7_made_between(value, first, last) for value in ids)
    # rand_a and rand_b: no two alike, and each of their bits set in some and clear in others.
    randoms = [value.int & ((1 << 76) - 1) & ~(0xF << 76 | 0b11 << 62) for value in ids]
    assert len(set(randoms)) == 1000
    varied = [bit for bit in range(76) if bit not in (62, 63) and len({r >> bit & 1 for r in randoms}) == 2]
    assert len(varied) == 74


def test_a_statements_ids_are_its_uuid7_prefix_and_the_rows_place():
    first = _milliseconds()
    high, low = statement_ids()
    last = _milliseconds()
    ids = [uuid.UUID(high + format(low + place & (1 << 64) - 1, "016x")) for place in (0, 1, 9_999)]
    assert all(_is_uuid7_made_between(value, first, last) for value in ids)
    assert len({value.int >> 16 for value in ids}) == 1
    assert [value.int & 0xFFFF for value in ids] == [0, 1, 9_999]
    assert low < 0 and len(format(low & (1 << 64) - 1, "x")) == 16  # to_hex writes its 16 digits
    assert statement_ids() != (high, low)


@pytest.mark.parametrize("low", [-(1 << 63), -(1 << 62) - 1, -(1 << 16)], ids=["lowest", "variant only", "highest"])
def test_postgresql_makes_every_statements_ids_whatever_its_random_bits(low):
    # The parameters go into the statement as text: the lowest bigint must still be one.
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's statements")
    high = "01a24f34d8a57121"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {CREATED_ID} FROM (VALUES (0), (9999), (65535)) AS r(pos)", {"id_high": high, "id_low": low}
        )
        ids = [row[0] for row in cursor.fetchall()]
    assert ids == [uuid.UUID(high + format(low + place & (1 << 64) - 1, "016x")) for place in (0, 9999, 65535)]


def test_a_contact_created_one_by_one_gets_a_uuid7():
    account = factories.account_make()
    user = factories.user_make(account)
    first = _milliseconds()
    contact = factories.contact_make(account, factories.list_make(account), user, email="ada@example.test")
    assert _is_uuid7_made_between(contact.id, first, _milliseconds())


def _created_ids(
    settings, contacts: list[dict], *, sql_apply: bool, existing: tuple[int, ...] = ()
) -> tuple[list[uuid.UUID], int, int]:
    """Process a job of these contacts in chunks of 3 (those at `existing` there before);
    the ids of the contacts it created, in the order of its rows, and the milliseconds
    it ran between."""
    settings.BULK_CHUNK_SIZE = 3
    settings.BULK_SQL_APPLY = sql_apply
    account = factories.account_make()
    user = factories.user_make(account)
    there = [
        factories.contact_make(account, factories.list_make(account, "Old"), user, email=contacts[i]["email"]).id
        for i in existing
    ]
    body = {"list": {"name": "Leads"}, "contacts": contacts}
    job = bulk_job_create(user=user, request=bulk_request_parse(body), flags=BulkFlags())
    first = _milliseconds()
    bulk_job_process(job_id=job.pk)
    last = _milliseconds()
    ids = dict(Contact.objects.filter(account_id=user.account_id).exclude(id__in=there).values_list("email", "id"))
    return [ids.get(contact["email"]) for contact in contacts], first, last


@pytest.mark.parametrize(
    "contacts",
    [
        pytest.param([{"email": f"p{i}@x.test", "firstName": "P"} for i in range(6)], id="one statement a chunk"),
        pytest.param(
            [{"email": f"p{i}@x.test", **({"firstName": "P"} if i % 2 else {})} for i in range(6)],
            id="matched, then inserted",
        ),
    ],
)
def test_the_contacts_postgresql_creates_count_up_in_their_rows_order_from_each_statements_own_prefix(
    settings, contacts
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's statements")
    # The second row updates a contact there before: the others keep their places.
    ids, first, last = _created_ids(settings, contacts, sql_apply=True, existing=(1,))
    created = [value for value in ids if value is not None]
    assert ids[1] is None and len(created) == 5
    assert all(_is_uuid7_made_between(value, first, last) for value in created)
    assert [value.int & 0xFFFF for value in created] == [0, 2, 0, 1, 2]  # each row's place in its chunk
    prefixes = [value.int >> 16 for value in created]
    assert prefixes[0] == prefixes[1] != prefixes[2] == prefixes[3] == prefixes[4]


def test_the_contacts_created_in_memory_get_uuid7_ids(settings):
    contacts = [{"email": f"p{i}@x.test"} for i in range(6)]
    ids, first, last = _created_ids(settings, contacts, sql_apply=False)
    assert all(_is_uuid7_made_between(value, first, last) for value in ids)
    assert len(set(ids)) == 6
