"""The set-based apply (contacts/upsert_sql.py) against the row-by-row one: for any
contacts already there and any rows, a job processed with BULK_SQL_APPLY leaves the
account's contacts, the job's counters and its errors exactly as a job processed row by
row leaves those of an identical account. Small key spaces make rows collide with each
other and with the contacts there; chunks of a few rows mix chunks PostgreSQL applies with
chunks it hands back to Python, in one job."""

import re
from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, example, given, settings as hypothesis_settings
from hypothesis import strategies as st

from contacts.bulk_input import bulk_request_parse
from contacts.models import BulkJob, Contact
from contacts.services import BulkFlags, bulk_job_create, bulk_job_process
from tests import factories

pytestmark = pytest.mark.django_db

EMAILS = ["a@x.test", "b@x.test", "c@x.test", "d@x.test"]
LINKEDINS = ["linkedin.com/in/a", "linkedin.com/in/b", "linkedin.com/in/c", "linkedin.com/in/d"]
FIELDS = ["firstName", "companyName", "jobTitle"]
COLUMNS = [
    "email", "linkedin_url", "first_name", "company_name", "job_title", "source", "language", "collected_at", "vars",
]
THEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

# Spellings that share a key: case of an email, scheme, host case and trailing slash of a URL.
email_spelling = st.sampled_from(EMAILS).flatmap(lambda e: st.sampled_from([e, e.upper(), e.capitalize()]))
linkedin_spelling = st.sampled_from(LINKEDINS).flatmap(
    lambda path: st.sampled_from([f"https://www.{path}", f"http://WWW.{path}/", f"https://www.{path}?x=1"])
)
scalar = st.one_of(st.integers(-3, 3), st.sampled_from(["p", "q"]), st.booleans())
flag_sets = st.fixed_dictionaries({"move_to_list": st.booleans(), "replace_owner": st.booleans(), "admin_import": st.booleans()})


@st.composite
def existing_contacts(draw) -> list[dict]:
    """Contacts of distinct keys, each with an email, a LinkedIn URL or both."""
    emails = draw(st.permutations(EMAILS))
    linkedins = draw(st.permutations(LINKEDINS))
    contacts = []
    for i in range(draw(st.integers(0, 4))):
        email = emails[i] if draw(st.booleans()) else None
        linkedin = f"https://www.{linkedins[i]}" if email is None or draw(st.booleans()) else None
        contacts.append({
            "email": email, "linkedin_url": linkedin, "first_name": draw(st.sampled_from([None, "Old"])),
            "vars": draw(st.dictionaries(st.sampled_from("kmn"), scalar, max_size=2)),
            "other_owner": draw(st.booleans()),
        })
    return contacts


@st.composite
def bulk_row(draw) -> dict:
    row = {}
    keys = draw(st.sampled_from(["email", "linkedin", "both"]))
    if keys in ("email", "both"):
        row["email"] = draw(email_spelling)
    if keys in ("linkedin", "both"):
        row["linkedinUrl"] = draw(linkedin_spelling)
    if keys == "both" and draw(st.integers(0, 5)) == 0:
        row[draw(st.sampled_from(["email", "linkedinUrl"]))] = None  # given, as null
    for name in FIELDS:
        if draw(st.booleans()):
            row[name] = draw(st.sampled_from([None, "", "New", "Other"]))
    if draw(st.booleans()):
        row["vars"] = draw(st.dictionaries(st.sampled_from("kmn"), st.one_of(st.none(), scalar), max_size=3))
    if draw(st.booleans()):
        row["source"] = draw(st.sampled_from(["api", "connect", "import"]))
    if draw(st.booleans()):
        row["language"] = "de"
    if draw(st.booleans()):
        row["collectedAt"] = "2026-03-04T05:06:07Z"
    if draw(st.booleans()):
        row["owner"] = "__other__"  # the account's second user, resolved per account
    return row


def _account_with(contacts: list[dict]):
    account = factories.account_make()
    caller = factories.user_make(account)
    other = factories.user_make(account)
    old_list = factories.list_make(account, "Old")
    for contact in contacts:
        fields = {k: v for k, v in contact.items() if k != "other_owner"}
        owner = other if contact["other_owner"] else caller
        factories.contact_make(account, old_list, owner, collected_at=THEN, **fields)
    return account, caller, other


def _processed(contacts: list[dict], rows: list[dict], flags: dict, *, sql_apply: bool, settings):
    """Process the rows on a fresh account holding `contacts`; return what a client can see
    of the outcome, and the SQL the job ran."""
    account, caller, other = _account_with(contacts)
    body = {
        "list": {"name": "Leads"},
        "contacts": [{**row, "owner": other.email} if "owner" in row else row for row in rows],
    }
    settings.BULK_SQL_APPLY = sql_apply
    # An admin import's defaults: the owner and the source of contacts whose row names none.
    defaults = {"default_owner_id": other.pk} if flags.get("admin_import") else {}
    if flags.get("admin_import"):
        defaults["default_source"] = "import"
    bulk_flags = BulkFlags(
        move_to_list=flags.get("move_to_list", False), replace_owner=flags.get("replace_owner", False), **defaults
    )
    job = bulk_job_create(user=caller, request=bulk_request_parse(body), flags=bulk_flags)
    connection.queries_log.clear()  # what earlier examples captured
    with CaptureQueriesContext(connection) as queries:
        bulk_job_process(job_id=job.pk)
    job.refresh_from_db()
    owners = {caller.pk: "caller", other.pk: "other"}
    found = Contact.objects.filter(account=account).values(*COLUMNS, "list__name", "owner_id")
    state = sorted(
        (
            [str(c[column]) for column in COLUMNS[:-2]],
            "job's default" if c["collected_at"] == job.created_at else c["collected_at"],
            sorted(c["vars"].items()),
            c["list__name"],
            owners[c["owner_id"]],
        )
        for c in found
    )
    counts = (job.status, job.processed, job.created, job.updated, job.failed, job.connect_created, job.errors)
    return (counts, state), [q["sql"] for q in queries.captured_queries]


def _existing(i: int, *, other_owner: bool) -> dict:
    """Contact i of the key spaces, with its email and its LinkedIn URL."""
    return {"email": EMAILS[i], "linkedin_url": f"https://www.{LINKEDINS[i]}", "first_name": None, "vars": {},
            "other_owner": other_owner}


def _applied_by_postgres(sql: list[str]) -> bool:
    return any(re.search(r"FROM chunk_row_\w+ r JOIN chunk_match m", statement) for statement in sql)


def _tried_in_one_statement(sql: list[str]) -> int:
    return sum("ON CONFLICT (account_id, email_key)" in statement for statement in sql)


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    contacts=existing_contacts(),
    rows=st.lists(bulk_row(), min_size=1, max_size=9),
    flags=flag_sets,
    chunk_size=st.sampled_from([1, 2, 3, 9]),
)
# A row whose email is one contact's and whose LinkedIn URL is another's: refused.
@example(
    contacts=[_existing(0, other_owner=False), _existing(1, other_owner=True)],
    rows=[{"email": EMAILS[0], "linkedinUrl": f"https://www.{LINKEDINS[1]}"}, {"email": EMAILS[2]}],
    flags={"move_to_list": False, "replace_owner": False},
    chunk_size=9,
)
# A row matched by its LinkedIn URL gives the contact a new email; another takes the old one.
@example(
    contacts=[{**_existing(0, other_owner=False), "first_name": "Old", "vars": {"k": 1}}],
    rows=[
        {"email": EMAILS[1], "linkedinUrl": f"http://www.{LINKEDINS[0]}/", "vars": {"k": None}},
        {"email": EMAILS[0], "owner": ""},
    ],
    flags={"move_to_list": True, "replace_owner": True},
    chunk_size=1,
)
def test_a_job_applied_by_postgresql_ends_as_one_applied_row_by_row(contacts, rows, flags, chunk_size, settings):
    _both_ways_alike(contacts, rows, flags, chunk_size, settings)


def _both_ways_alike(contacts, rows, flags, chunk_size, settings) -> None:
    settings.BULK_CHUNK_SIZE = chunk_size
    with transaction.atomic():
        row_by_row, row_by_row_sql = _processed(contacts, rows, flags, sql_apply=False, settings=settings)
        set_based, _ = _processed(contacts, rows, flags, sql_apply=True, settings=settings)
        transaction.set_rollback(True)
    assert not _applied_by_postgres(row_by_row_sql) and not _tried_in_one_statement(row_by_row_sql)
    assert set_based == row_by_row


@st.composite
def alike_rows(draw) -> list[dict]:
    """Rows that all carry an email and give the same fields, with no `vars` key set to
    null: the chunks one statement applies (upsert_direct.py), unless a LinkedIn URL stops it."""
    fields = draw(st.lists(st.sampled_from(FIELDS), unique=True))
    extra = draw(st.lists(st.sampled_from(["linkedinUrl", "vars", "source", "language", "collectedAt", "owner"]), unique=True))
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        row = {"email": draw(email_spelling)}
        row |= {name: draw(st.sampled_from([None, "", "New", "Other"])) for name in fields}
        values = {
            "linkedinUrl": linkedin_spelling, "source": st.sampled_from(["api", "connect", "import"]),
            "language": st.just("de"), "collectedAt": st.just("2026-03-04T05:06:07Z"), "owner": st.just("__other__"),
            "vars": st.dictionaries(st.sampled_from("kmn"), scalar, max_size=3),
        }
        row |= {name: draw(values[name]) for name in extra}
        rows.append(row)
    return rows


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    contacts=existing_contacts(),
    rows=alike_rows(),
    flags=flag_sets,
    chunk_size=st.sampled_from([2, 3, 9]),
)
def test_chunks_of_alike_rows_applied_in_one_statement_end_as_applied_row_by_row(contacts, rows, flags, chunk_size, settings):
    _both_ways_alike(contacts, rows, flags, chunk_size, settings)


def test_a_chunk_of_alike_rows_is_applied_in_one_statement(settings):
    settings.BULK_CHUNK_SIZE = 3
    existing = [{**_existing(0, other_owner=False), "first_name": "Old", "vars": {"k": 1, "m": 1}}]
    rows = [
        {"email": EMAILS[0].upper(), "firstName": "New", "vars": {"m": 2}},
        {"email": EMAILS[1], "firstName": "Made", "vars": {"n": 3}},
    ]
    (counts, state), sql = _processed(existing, rows, {}, sql_apply=True, settings=settings)
    assert _tried_in_one_statement(sql) == 1 and not _applied_by_postgres(sql)
    assert counts[:5] == ("done", 2, 1, 1, 0)
    assert [(s[0][0], s[0][2], s[2]) for s in state] == [
        ("A@X.TEST", "New", [("k", 1), ("m", 2)]), ("b@x.test", "Made", [("n", 3)])
    ]


def test_a_linkedin_url_of_another_contact_undoes_the_statement_and_the_job_stops_trying_it(settings):
    settings.BULK_CHUNK_SIZE = 1
    existing = [_existing(0, other_owner=False), _existing(1, other_owner=False)]
    # Matched by its LinkedIn URL (its email is new): the contact of LINKEDINS[0] takes the new email.
    rows = [
        {"email": EMAILS[2], "linkedinUrl": f"https://www.{LINKEDINS[0]}", "firstName": "Moved"},
        {"email": EMAILS[1], "linkedinUrl": f"https://www.{LINKEDINS[1]}", "firstName": "Same"},
    ]
    (counts, state), sql = _processed(existing, rows, {}, sql_apply=True, settings=settings)
    assert counts[:5] == ("done", 2, 0, 2, 0)
    assert sorted((s[0][0], s[0][2]) for s in state) == [("b@x.test", "Same"), ("c@x.test", "Moved")]
    assert _tried_in_one_statement(sql) == 1  # the second chunk went the other way at once
    assert _applied_by_postgres(sql)


def test_creations_past_the_jobs_reservation_undo_the_statement_and_are_counted_against_the_quota(settings):
    settings.BULK_CHUNK_SIZE = 9
    account = factories.account_make(total_limit=3)
    caller = factories.user_make(account)
    body = {"list": {"name": "Leads"}, "contacts": [{"email": e} for e in EMAILS[:3]]}
    job = bulk_job_create(user=caller, request=bulk_request_parse(body), flags=BulkFlags())
    # As if an earlier job had moved away the keys of contacts this one was to update.
    BulkJob.objects.filter(pk=job.pk).update(reserved_creates=1)
    with CaptureQueriesContext(connection) as queries:
        bulk_job_process(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.created, job.failed) == ("done", 3, 0)
    assert _tried_in_one_statement([q["sql"] for q in queries.captured_queries]) == 1
    assert Contact.objects.filter(account=account).count() == 3


def test_plain_chunks_are_applied_by_postgresql_and_others_row_by_row(settings):
    settings.BULK_CHUNK_SIZE = 2
    existing = [{**_existing(0, other_owner=False), "first_name": "Old", "vars": {"k": 1}}]
    plain = [{"email": EMAILS[0].upper(), "vars": {"k": None, "m": 2}}, {"email": EMAILS[1], "firstName": "New"}]
    (counts, state), sql = _processed(existing, plain, {}, sql_apply=True, settings=settings)
    assert _applied_by_postgres(sql) and not _tried_in_one_statement(sql)
    assert counts[:5] == ("done", 2, 1, 1, 0)
    assert [s[2] for s in state] == [[("m", 2)], []]

    # Two rows of one chunk matching one contact: the second depends on the first.
    same_contact = [{"email": EMAILS[0]}, {"linkedinUrl": f"https://www.{LINKEDINS[0]}", "firstName": "Twice"}]
    (counts, state), sql = _processed(existing, same_contact, {}, sql_apply=True, settings=settings)
    assert not _applied_by_postgres(sql)
    assert counts[:5] == ("done", 2, 0, 2, 0)
    assert state[0][0][2] == "Twice"


def test_the_services_postgresql_connections_compile_no_query_with_jit():
    # Past jit_above_cost, which a chunk's planner misestimates reach as an account grows,
    # compiling took ~0.3 s for a ~10 ms query.
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
