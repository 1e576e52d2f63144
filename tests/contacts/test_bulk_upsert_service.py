"""The bulk upsert's semantics, at the service level: a job is accepted by bulk_job_create
and processed by bulk_job_process in the test itself (on the real PostgreSQL test database;
a live worker cannot see the test's uncommitted rows), then the database, the job's counters
and the events sent through the real Redis channel layer are checked."""

import json
from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.bulk_input import bulk_request_parse
from contacts.models import BulkJob, Contact
from contacts.services import BulkFlags, bulk_job_create, bulk_job_process
from lists.models import ContactList
from tests import factories

pytestmark = pytest.mark.django_db

LINKEDIN_CONFLICT = "belongs to another contact of the account (matched by email)"
ADA_IN = "https://www.linkedin.com/in/ada-lovelace"
GRACE_IN = "https://www.linkedin.com/in/grace-hopper"


def _run(user, contacts: list[dict], *, list_ref: dict | None = None, **flags) -> BulkJob:
    """Accept and process one bulk request, as the API and a worker would."""
    body = {"list": {"name": "Leads"} if list_ref is None else list_ref, "contacts": contacts}
    job = bulk_job_create(user=user, request=bulk_request_parse(body), flags=BulkFlags(**flags))
    bulk_job_process(job_id=job.pk)
    job.refresh_from_db()
    return job


def _counts(job: BulkJob) -> dict:
    return {
        "status": job.status, "processed": job.processed, "created": job.created,
        "updated": job.updated, "failed": job.failed, "errors": job.errors,
    }


def _done(total: int, *, created: int = 0, updated: int = 0, failed: int = 0, errors=()) -> dict:
    return {
        "status": "done", "processed": total, "created": created,
        "updated": updated, "failed": failed, "errors": list(errors),
    }


def _only(account, **lookup) -> Contact:
    return Contact.objects.select_related("list", "owner").get(account=account, **lookup)


def _expected_events(job: BulkJob, *, total: int, ending: dict) -> list[dict]:
    """The contract's exact sequence for a job: starting, one running per row, ending."""
    uuid_ = str(job.pk)
    return [
        {"event": "contact_bulk_create_starting", "data": {"listId": str(job.list_id), "uuid": uuid_}},
        *({"event": "contact_bulk_create_running", "data": {"uuid": uuid_, "i": i, "total": total}} for i in range(total)),
        {"event": "contact_bulk_create_ending", "data": {"uuid": uuid_, **ending}},
    ]


@pytest.fixture
def old_list(account):
    return factories.list_make(account, "Old list")


@pytest.fixture
def ada(account, old_list, user):
    return factories.contact_make(account, old_list, user, email="ada@example.test", linkedin_url=ADA_IN)


@pytest.fixture
def grace(account, old_list, user):
    return factories.contact_make(account, old_list, user, email="grace@example.test", linkedin_url=GRACE_IN)


# --- create and update ---------------------------------------------------------------------


def test_unknown_contacts_are_created_and_known_ones_updated(account, user, ada):
    job = _run(user, [
        {"email": "new-1@example.test"},
        {"email": "ada@example.test", "firstName": "Ada"},
        {"linkedinUrl": "https://www.linkedin.com/in/new-2"},
    ])

    assert _counts(job) == _done(3, created=2, updated=1)
    assert Contact.objects.filter(account=account).count() == 3
    assert _only(account, pk=ada.pk).first_name == "Ada"


def test_fields_absent_from_the_payload_are_left_unchanged(account, user, old_list):
    other = factories.user_make(account)
    collected = datetime(2023, 5, 4, 3, 2, 1, tzinfo=UTC)
    factories.contact_make(
        account, old_list, other, email="ada@example.test", linkedin_url=ADA_IN, first_name="Ada",
        last_name="Lovelace", company_name="Analytical Engines", phone="+44 1", language="fr",
        source="import", collected_at=collected, vars={"met": "1843"},
    )

    job = _run(user, [{"email": "ada@example.test", "jobTitle": "Programmer"}])

    assert _counts(job) == _done(1, updated=1)
    contact = _only(account, email_key="ada@example.test")
    assert contact.job_title == "Programmer"
    assert (contact.linkedin_url, contact.first_name, contact.last_name, contact.company_name, contact.phone) == (
        ADA_IN, "Ada", "Lovelace", "Analytical Engines", "+44 1"
    )
    assert (contact.language, contact.source, contact.collected_at) == ("fr", "import", collected)
    assert contact.vars == {"met": "1843"}
    assert (contact.owner, contact.list) == (other, old_list)


def test_defaults_apply_when_a_contact_is_created(account, user):
    before = timezone.now()
    job = _run(user, [{"email": "ada@example.test"}])
    after = timezone.now()

    contact = _only(account, email_key="ada@example.test")
    assert (contact.language, contact.source, contact.vars) == ("en", "manual", {})
    assert before <= contact.collected_at <= after
    assert contact.owner == user
    assert contact.list_id == job.list_id
    assert contact.list.name == "Leads"


def test_every_given_field_is_written_on_create(account, user):
    colleague = factories.user_make(account, "colleague@example.test")
    _run(user, [{
        "email": "Ada@Example.test", "linkedinUrl": ADA_IN, "owner": "COLLEAGUE@example.test",
        "collectedAt": "2024-03-01T10:30:00+02:00", "source": "connect", "language": "FR",
        "vars": {"met": "1843", "score": 9.5, "vip": True, "gone": None},
        "firstName": "Ada", "lastName": "Lovelace", "companyIndustry": "Computing",
        "companyName": "Analytical Engines", "companySize": "11-50",
        "companyDescription": "Engines that compute", "companyWebsite": "https://engines.example.test",
        "city": "London", "country": "UK", "zipcode": "W1", "mobilePhone": "+44 7", "phone": "+44 1",
        "pictureUrl": "https://gravatar.example.test/ada.png", "jobTitle": "Programmer",
    }])

    contact = _only(account, email_key="ada@example.test")
    assert (contact.email, contact.linkedin_url, contact.owner) == ("Ada@Example.test", ADA_IN, colleague)
    assert contact.collected_at == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    assert (contact.source, contact.language) == ("connect", "fr")
    assert contact.vars == {"met": "1843", "score": 9.5, "vip": True}
    assert [
        contact.first_name, contact.last_name, contact.company_industry, contact.company_name,
        contact.company_size, contact.company_description, contact.company_website, contact.city,
        contact.country, contact.zipcode, contact.mobile_phone, contact.phone, contact.picture_url,
        contact.job_title,
    ] == [
        "Ada", "Lovelace", "Computing", "Analytical Engines", "11-50", "Engines that compute",
        "https://engines.example.test", "London", "UK", "W1", "+44 7", "+44 1",
        "https://gravatar.example.test/ada.png", "Programmer",
    ]


def test_collected_at_given_as_a_date_is_midnight_utc(account, user):
    _run(user, [{"email": "ada@example.test", "collectedAt": "2024-03-01"}])
    assert _only(account, email_key="ada@example.test").collected_at == datetime(2024, 3, 1, tzinfo=UTC)


def test_update_writes_given_defaults_and_collected_at(account, user, ada):
    _run(user, [
        {"email": "ada@example.test", "language": "de", "source": "api", "collectedAt": "2022-01-02T03:04:05Z"}
    ])

    contact = _only(account, pk=ada.pk)
    assert (contact.language, contact.source) == ("de", "api")
    assert contact.collected_at == datetime(2022, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_explicit_null_clears_a_field_on_update(account, user, old_list):
    factories.contact_make(account, old_list, user, email="ada@example.test", first_name="Ada", phone="+44 1")

    _run(user, [{"email": "ada@example.test", "firstName": None}])

    contact = _only(account, email_key="ada@example.test")
    assert (contact.first_name, contact.phone) == (None, "+44 1")


# --- vars ----------------------------------------------------------------------------------


def test_vars_are_merged_key_by_key_and_null_removes_a_key(account, user, old_list):
    factories.contact_make(
        account, old_list, user, email="ada@example.test", vars={"met": "1843", "score": 1, "vip": True}
    )

    _run(user, [{"email": "ada@example.test", "vars": {"score": 2, "vip": None, "city": "London"}}])

    assert _only(account, email_key="ada@example.test").vars == {"met": "1843", "score": 2, "city": "London"}


def test_vars_of_duplicates_in_one_payload_merge_in_array_order(account, user):
    _run(user, [
        {"email": "ada@example.test", "vars": {"a": 1, "b": 1}},
        {"email": "ada@example.test", "vars": {"b": None, "c": 3}},
        {"email": "ada@example.test", "vars": {"a": "last"}},
    ])

    assert _only(account, email_key="ada@example.test").vars == {"a": "last", "c": 3}


# --- matching ------------------------------------------------------------------------------


def test_email_is_matched_case_insensitively(account, user, old_list):
    existing = factories.contact_make(account, old_list, user, email="Ada.Lovelace@Example.TEST")

    job = _run(user, [{"email": "ada.lovelace@example.test", "firstName": "Ada"}])

    assert _counts(job) == _done(1, updated=1)
    contact = _only(account, pk=existing.pk)
    assert (contact.email, contact.first_name) == ("ada.lovelace@example.test", "Ada")
    assert Contact.objects.filter(account=account).count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://www.linkedin.com/in/ada-lovelace",
        "https://WWW.LinkedIn.COM/in/ada-lovelace",
        "https://www.linkedin.com/in/ada-lovelace/",
        "https://www.linkedin.com/in/ada-lovelace?trk=profile",
        "HTTP://www.LINKEDIN.com/in/ada-lovelace/?utm=x#about",
    ],
    ids=["scheme", "host-case", "trailing-slash", "query", "all-at-once"],
)
def test_linkedin_url_is_matched_ignoring_scheme_host_case_trailing_slash_and_query(account, user, old_list, url):
    existing = factories.contact_make(account, old_list, user, linkedin_url=ADA_IN)

    job = _run(user, [{"linkedinUrl": url, "firstName": "Ada"}])

    assert _counts(job) == _done(1, updated=1)
    contact = _only(account, pk=existing.pk)
    assert (contact.first_name, contact.linkedin_url) == ("Ada", url)


def test_contact_is_matched_by_linkedin_when_its_email_is_unknown(account, user, ada):
    job = _run(user, [{"email": "countess@example.test", "linkedinUrl": ADA_IN + "/"}])

    assert _counts(job) == _done(1, updated=1)
    assert _only(account, pk=ada.pk).email == "countess@example.test"
    assert Contact.objects.filter(account=account).count() == 1


def test_contact_matched_by_email_takes_a_new_linkedin_url(account, user, old_list):
    existing = factories.contact_make(account, old_list, user, email="ada@example.test")

    job = _run(user, [{"email": "ada@example.test", "linkedinUrl": ADA_IN}])

    assert _counts(job) == _done(1, updated=1)
    assert _only(account, pk=existing.pk).linkedin_url == ADA_IN


def test_email_match_wins_over_linkedin_match_and_a_taken_linkedin_url_fails_the_row(account, user, ada, grace):
    job = _run(user, [
        {"email": "new@example.test"},
        {"email": "ada@example.test", "linkedinUrl": GRACE_IN, "firstName": "Not applied"},
        {"email": "grace@example.test", "firstName": "Grace"},
    ])

    assert _counts(job) == _done(
        3, created=1, updated=1, failed=1,
        errors=[{"index": 1, "field": "linkedinUrl", "message": LINKEDIN_CONFLICT}],
    )
    assert (_only(account, pk=ada.pk).first_name, _only(account, pk=ada.pk).linkedin_url) == (None, ADA_IN)
    assert _only(account, pk=grace.pk).first_name == "Grace"
    assert _only(account, email_key="new@example.test").list.name == "Leads"


def test_contacts_of_another_account_are_never_matched(account, user):
    other_account = factories.account_make()
    others = factories.contact_make(
        other_account, factories.list_make(other_account), factories.user_make(other_account),
        email="ada@example.test", linkedin_url=ADA_IN,
    )

    job = _run(user, [
        {"email": "ada@example.test", "linkedinUrl": ADA_IN, "firstName": "Mine"},
        {"linkedinUrl": ADA_IN},
    ])

    assert _counts(job) == _done(2, created=1, updated=1)
    assert _only(account, email_key="ada@example.test").linkedin_url == ADA_IN
    others.refresh_from_db()
    assert others.first_name is None


# --- one payload, in array order -----------------------------------------------------------


def test_duplicate_later_in_the_payload_updates_the_contact_an_earlier_entry_created(account, user):
    job = _run(user, [
        {"email": "ada@example.test", "firstName": "Ada"},
        {"email": "grace@example.test"},
        {"email": "ADA@example.test", "lastName": "Lovelace"},
        {"email": "ada@example.test", "firstName": "Augusta"},
    ])

    assert _counts(job) == _done(4, created=2, updated=2)
    ada = _only(account, email_key="ada@example.test")
    assert (ada.email, ada.first_name, ada.last_name) == ("ada@example.test", "Augusta", "Lovelace")
    assert Contact.objects.filter(account=account).count() == 2


def test_duplicate_matched_by_linkedin_updates_the_created_contact(account, user):
    job = _run(user, [
        {"linkedinUrl": "https://www.linkedin.com/in/grace", "firstName": "Grace"},
        {"linkedinUrl": "http://WWW.linkedin.com/in/grace/", "email": "grace@example.test"},
        {"email": "grace@example.test", "lastName": "Hopper"},
    ])

    assert _counts(job) == _done(3, created=1, updated=2)
    grace = _only(account, email_key="grace@example.test")
    assert (grace.first_name, grace.last_name) == ("Grace", "Hopper")
    assert grace.linkedin_url == "http://WWW.linkedin.com/in/grace/"


def test_emails_swap_between_contacts_inside_one_payload(account, user, ada, grace):
    job = _run(user, [
        {"linkedinUrl": ADA_IN, "email": "parked@example.test"},
        {"linkedinUrl": GRACE_IN, "email": "ada@example.test"},
        {"linkedinUrl": ADA_IN, "email": "grace@example.test"},
    ])

    assert _counts(job) == _done(3, updated=3)
    assert _only(account, pk=ada.pk).email == "grace@example.test"
    assert _only(account, pk=grace.pk).email == "ada@example.test"
    assert Contact.objects.filter(account=account).count() == 2


def test_linkedin_urls_swap_between_contacts_inside_one_payload(account, user, ada, grace):
    job = _run(user, [
        {"email": "ada@example.test", "linkedinUrl": None},
        {"email": "grace@example.test", "linkedinUrl": ADA_IN},
        {"email": "ada@example.test", "linkedinUrl": GRACE_IN},
    ])

    assert _counts(job) == _done(3, updated=3)
    assert _only(account, pk=ada.pk).linkedin_url == GRACE_IN
    assert _only(account, pk=grace.pk).linkedin_url == ADA_IN


def test_a_released_linkedin_url_goes_to_a_contact_created_later_in_the_payload(account, user, ada):
    job = _run(user, [
        {"email": "ada@example.test", "linkedinUrl": None},
        {"email": "heir@example.test", "linkedinUrl": ADA_IN},
    ])

    assert _counts(job) == _done(2, created=1, updated=1)
    assert _only(account, pk=ada.pk).linkedin_url is None
    assert _only(account, email_key="heir@example.test").linkedin_url == ADA_IN


# The payload the chunking test runs twice; the comments say what processing it row by row gives.
SEQUENCE = [
    {"email": "ada@example.test", "firstName": "Ann"},                    # 0 updates Ada
    {"email": "n1@example.test", "vars": {"k": 1}},                       # 1 creates N1
    {"email": "N1@example.test", "vars": {"j": 2}},                       # 2 updates N1
    {"linkedinUrl": ADA_IN + "?x=1", "email": "parked@example.test"},     # 3 Ada's email: parked
    {"linkedinUrl": GRACE_IN, "email": "ada@example.test"},               # 4 Grace's email: ada
    {"linkedinUrl": ADA_IN, "email": "grace@example.test"},               # 5 Ada's email: grace
    {"email": "grace@example.test", "linkedinUrl": GRACE_IN},             # 6 Ada by email, Grace's URL: fails
    {"linkedinUrl": "https://www.linkedin.com/in/n2", "email": "n2@example.test"},  # 7 creates N2
    {"linkedinUrl": "https://www.linkedin.com/in/n3", "lastName": "Two"},  # 8 creates N3
    {"linkedinUrl": "https://www.linkedin.com/in/n2/", "lastName": "Last"},  # 9 updates N2
]


def _sequence_outcome(account, user) -> tuple[dict, list]:
    old = factories.list_make(account, "Old list")
    factories.contact_make(account, old, user, email="ada@example.test", linkedin_url=ADA_IN)
    factories.contact_make(account, old, user, email="grace@example.test", linkedin_url=GRACE_IN)
    job = _run(user, SEQUENCE)
    contacts = sorted(
        (
            (c.email, c.linkedin_url, c.first_name, c.last_name, c.vars, c.list.name, c.owner == user)
            for c in Contact.objects.filter(account=account).select_related("list")
        ),
        key=repr,
    )
    return _counts(job), contacts


def test_chunks_smaller_than_the_payload_give_the_result_of_one_chunk(settings):
    settings.BULK_CHUNK_SIZE = 100
    one_account = factories.account_make()
    in_one_chunk = _sequence_outcome(one_account, factories.user_make(one_account))
    settings.BULK_CHUNK_SIZE = 2
    chunked_account = factories.account_make()
    in_chunks = _sequence_outcome(chunked_account, factories.user_make(chunked_account))

    assert in_chunks == in_one_chunk
    counts, contacts = in_chunks
    assert counts == _done(
        10, created=3, updated=6, failed=1,
        errors=[{"index": 6, "field": "linkedinUrl", "message": LINKEDIN_CONFLICT}],
    )
    assert contacts == sorted([
        ("grace@example.test", ADA_IN, "Ann", None, {}, "Old list", True),
        ("ada@example.test", GRACE_IN, None, None, {}, "Old list", True),
        ("N1@example.test", None, None, None, {"k": 1, "j": 2}, "Leads", True),
        ("n2@example.test", "https://www.linkedin.com/in/n2/", None, "Last", {}, "Leads", True),
        (None, "https://www.linkedin.com/in/n3", None, "Two", {}, "Leads", True),
    ], key=repr)


# --- list, moveToList, replaceOwner --------------------------------------------------------


def test_existing_contact_keeps_its_list_without_move_flag(account, user, ada, old_list):
    job = _run(user, [{"email": "ada@example.test"}, {"email": "new@example.test"}], move_to_list=False)

    assert _only(account, pk=ada.pk).list == old_list
    assert _only(account, email_key="new@example.test").list_id == job.list_id != old_list.pk


def test_existing_contact_moves_to_the_requests_list_with_move_flag(account, user, ada, grace):
    job = _run(user, [{"email": "ada@example.test"}, {"email": "new@example.test"}], move_to_list=True)

    assert _only(account, pk=ada.pk).list_id == job.list_id
    assert _only(account, email_key="new@example.test").list_id == job.list_id
    assert _only(account, pk=grace.pk).list.name == "Old list"  # not in the payload


def test_list_by_name_is_created_once_and_then_reused(account, user):
    first = _run(user, [{"email": "a@example.test"}], list_ref={"name": "Conference"})
    second = _run(user, [{"email": "b@example.test"}], list_ref={"name": "Conference"})

    assert first.list_id == second.list_id
    assert ContactList.objects.filter(account=account, name="Conference").count() == 1
    assert set(Contact.objects.filter(account=account).values_list("list_id", flat=True)) == {first.list_id}


def test_list_by_name_finds_an_existing_list(account, user, old_list):
    job = _run(user, [{"email": "a@example.test"}], list_ref={"name": "Old list"})

    assert job.list_id == old_list.pk
    assert ContactList.objects.filter(account=account).count() == 1


def test_list_by_id_receives_the_new_contacts(account, user, old_list):
    job = _run(user, [{"email": "a@example.test"}], list_ref={"id": str(old_list.pk)})

    assert job.list_id == old_list.pk
    assert _only(account, email_key="a@example.test").list == old_list
    assert ContactList.objects.filter(account=account).count() == 1


@pytest.fixture
def colleague(account):
    return factories.user_make(account, "colleague@example.test")


@pytest.fixture
def owned_by_first_owner(account, old_list):
    first_owner = factories.user_make(account, "first-owner@example.test")
    return factories.contact_make(account, old_list, first_owner, email="ada@example.test")


@pytest.mark.parametrize(
    "replace_owner, owner_field, expected_owner",
    [
        (False, None, "first-owner@example.test"),
        (False, "colleague@example.test", "first-owner@example.test"),
        (True, "Colleague@Example.test", "colleague@example.test"),
        # Nothing to replace the owner by: absent fields are left unchanged.
        (True, None, "first-owner@example.test"),
    ],
    ids=["keep", "keep-despite-owner-field", "replace", "no-owner-field-keeps"],
)
def test_replace_owner_flag_decides_whether_an_existing_contact_changes_owner(
    account, user, colleague, owned_by_first_owner, replace_owner, owner_field, expected_owner
):
    row = {"email": "ada@example.test"} | ({"owner": owner_field} if owner_field else {})

    job = _run(user, [row], replace_owner=replace_owner)

    assert _counts(job) == _done(1, updated=1)
    assert _only(account, pk=owned_by_first_owner.pk).owner.email == expected_owner


@pytest.mark.parametrize("replace_owner", [False, True])
def test_created_contact_gets_the_owner_field_or_the_caller(account, user, colleague, replace_owner):
    _run(user, [{"email": "a@example.test", "owner": "colleague@example.test"}, {"email": "b@example.test"}],
         replace_owner=replace_owner)

    assert _only(account, email_key="a@example.test").owner == colleague
    assert _only(account, email_key="b@example.test").owner == user


# --- events --------------------------------------------------------------------------------


def test_events_are_starting_then_one_running_per_contact_in_order_then_ending(account, user, ada, settings):
    settings.BULK_CHUNK_SIZE = 2
    contacts = [
        {"email": "n1@example.test"},
        {"email": "ada@example.test", "firstName": "Ada"},
        {"email": "n2@example.test"},
        {"email": "N1@example.test", "lastName": "One"},
        {"email": "n3@example.test"},
    ]

    with factories.events_subscribed(user) as channel:
        job = _run(user, contacts)
        events = factories.events_until_ending(channel, str(job.pk))

    assert events == _expected_events(job, total=5, ending={"created": 3, "updated": 2})


def test_the_last_chunks_events_and_the_ending_go_in_one_channel_layer_message(account, user, settings):
    settings.BULK_CHUNK_SIZE = settings.REALTIME_EVENTS_PER_MESSAGE = 2  # the ending one over the size
    with factories.events_subscribed(user) as channel:
        job = _run(user, [{"email": f"p{i}@example.test"} for i in range(4)])
        messages = [[json.loads(text) for text in factories.events_next_message(channel)["frames"]] for _ in range(3)]

    assert [[(e["event"].rsplit("_", 1)[1], e["data"].get("i")) for e in message] for message in messages] == [
        [("starting", None)], [("running", 0), ("running", 1)], [("running", 2), ("running", 3), ("ending", None)]
    ]
    assert messages[2][-1]["data"] == {"uuid": str(job.pk), "created": 4, "updated": 0}


@pytest.mark.django_db(transaction=True)  # as a worker runs it: each chunk commits
def test_a_jobs_end_that_fails_still_sends_the_last_chunks_events_and_its_resumption_the_ending(settings):
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL trigger")
    settings.BULK_CHUNK_SIZE = 2
    user = factories.user_make(factories.account_make())
    body = {"list": {"name": "L"}, "contacts": [{"email": f"p{i}@example.test"} for i in range(4)]}
    with connection.cursor() as cursor:  # the database going away as the job ends
        cursor.execute(
            "CREATE FUNCTION job_end_refused() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'going away' USING ERRCODE = 'admin_shutdown'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER job_end_refused BEFORE UPDATE ON contacts_bulkjob FOR EACH ROW "
            "WHEN (NEW.status = 'done') EXECUTE FUNCTION job_end_refused()"
        )
    with factories.events_subscribed(user) as channel:
        try:
            job = bulk_job_create(user=user, request=bulk_request_parse(body), flags=BulkFlags())
            with pytest.raises(OperationalError, match="going away"):
                bulk_job_process(job_id=job.pk)
            sent = [json.loads(text) for _ in range(3) for text in factories.events_next_message(channel)["frames"]]
        finally:
            with connection.cursor() as cursor:
                cursor.execute("DROP TRIGGER job_end_refused ON contacts_bulkjob")
                cursor.execute("DROP FUNCTION job_end_refused()")
        assert [(e["event"].rsplit("_", 1)[1], e["data"].get("i")) for e in sent] == [
            ("starting", None), *(("running", i) for i in range(4))
        ]
        bulk_job_process(job_id=job.pk)  # as the recovery loop's task does
        resumed = factories.events_until_ending(channel, str(job.pk))
    job.refresh_from_db()
    assert job.status == BulkJob.Status.DONE
    assert resumed[-1] == {"event": "contact_bulk_create_ending", "data": {"uuid": str(job.pk), "created": 4, "updated": 0}}


def test_ending_counts_failed_rows_which_the_job_details(account, user, ada, grace):
    contacts = [
        {"email": "ada@example.test", "linkedinUrl": GRACE_IN},
        {"email": "new@example.test"},
        {"email": "grace@example.test", "linkedinUrl": ADA_IN},
    ]

    with factories.events_subscribed(user) as channel:
        job = _run(user, contacts)
        events = factories.events_until_ending(channel, str(job.pk))

    assert events == _expected_events(job, total=3, ending={"created": 1, "updated": 0, "failed": 2})
    assert _counts(job) == _done(3, created=1, failed=2, errors=[
        {"index": 0, "field": "linkedinUrl", "message": LINKEDIN_CONFLICT},
        {"index": 2, "field": "linkedinUrl", "message": LINKEDIN_CONFLICT},
    ])


def _status_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token_make(user)}")
    return client


@pytest.mark.django_db(transaction=True)  # as a worker runs it: each chunk commits
def test_a_job_that_fails_for_a_reason_of_its_own_ends_failed_with_its_reason(account, user):
    body = {"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]}
    job = bulk_job_create(user=user, request=bulk_request_parse(body), flags=BulkFlags())
    # Rows naming an owner that is no user (a deletion cannot do this since jobs record the
    # owners they name): the database refuses the contact (contacts migration 0018).
    rows = [{"email": "a@example.test", "owner": "gone@example.test"}]
    BulkJob.objects.filter(pk=job.pk).update(payload=factories.payload_of(rows, owners={"gone@example.test": 10**9}))

    with factories.events_subscribed(user) as channel:
        bulk_job_process(job_id=job.pk)
        ending = factories.events_until_ending(channel, str(job.pk))[-1]

    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == ("failed", 0, 0)
    assert job.failure_reason.startswith("IntegrityError")
    assert ending["data"] == {"uuid": str(job.pk), "created": 0, "updated": 0, "failed": 1}
    assert not Contact.objects.filter(account=account).exists()
    status = _status_client(user).get(f"/api/v1/contacts/bulk/{job.pk}").json()
    assert (status["status"], status["created"], status["updated"], status["failed"]) == ("failed", 0, 0, 1)


def test_chunks_commit_without_waiting_for_the_disk_and_the_jobs_end_waits(settings):
    # A crash of PostgreSQL may take back the last chunks, with the job's progress, which
    # the job applies again when it resumes; its end's commit flushes them all.
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL setting")
    settings.BULK_CHUNK_SIZE = 2
    user = factories.user_make(factories.account_make())
    job = bulk_job_create(
        user=user,
        request=bulk_request_parse({"list": {"name": "L"}, "contacts": [{"email": f"p{i}@x.test"} for i in range(5)]}),
        flags=BulkFlags(),
    )
    with CaptureQueriesContext(connection) as queries:
        bulk_job_process(job_id=job.pk)

    sql = [query["sql"] for query in queries.captured_queries]
    unflushed = [i for i, statement in enumerate(sql) if statement.startswith("SET LOCAL synchronous_commit = off;")]
    progress = [
        i for i, statement in enumerate(sql)
        if statement.startswith('UPDATE "contacts_bulkjob" SET "processed" = ')
    ]
    ended = [i for i, statement in enumerate(sql) if statement.startswith('UPDATE "contacts_bulkjob" SET "status" = ')]
    assert len(progress) == 3  # three chunks, each recording the job's progress in its transaction
    assert len(unflushed) == 3 and unflushed[0] < progress[0] < unflushed[1] < progress[1] < unflushed[2] < progress[2]
    assert len(ended) == 2 and progress[2] < ended[1]  # running, then done: after the last chunk, no SET since
