"""`manage.py create_api_client`: what it prints, what it reuses, and that its credentials work."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from oauth2_provider.models import get_application_model

from accounts.models import Account, User
from contacts.models import BulkJob, Contact
from quotas.models import AccountQuota, UserQuota
from tests import factories
from tests.live import job_events

OUTPUT_KEYS = {"account_id", "user_email", "client_id", "client_secret"}


def create_api_client(*args: str) -> dict:
    """Run the command and parse what it prints, which must be exactly one JSON object."""
    out = StringIO()
    call_command("create_api_client", *args, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db
def test_prints_one_json_object_with_the_account_user_and_client_credentials():
    printed = create_api_client("--account", "acme", "--email", "ops@acme.test")

    assert set(printed) == OUTPUT_KEYS
    account = Account.objects.get(name="acme")
    user = User.objects.get(email="ops@acme.test")
    assert printed["account_id"] == account.pk
    assert printed["user_email"] == "ops@acme.test"
    assert user.account_id == account.pk
    application = get_application_model().objects.get(client_id=printed["client_id"])
    assert application.user == user
    assert application.authorization_grant_type == application.GRANT_CLIENT_CREDENTIALS
    assert application.client_type == application.CLIENT_CONFIDENTIAL
    # Only a hash of the secret is stored: the printed one is the only copy.
    assert printed["client_secret"] and application.client_secret != printed["client_secret"]


@pytest.mark.django_db
def test_second_call_reuses_the_account_and_user_and_creates_a_new_client():
    first = create_api_client("--account", "acme", "--email", "ops@acme.test")
    second = create_api_client("--account", "acme", "--email", "OPS@acme.test")

    assert second["account_id"] == first["account_id"]
    assert second["user_email"] == "ops@acme.test"
    assert Account.objects.filter(name="acme").count() == 1
    assert User.objects.filter(email__iexact="ops@acme.test").count() == 1
    assert second["client_id"] != first["client_id"]
    assert second["client_secret"] != first["client_secret"]


@pytest.mark.django_db
def test_sets_the_total_and_connect_daily_quotas_and_a_later_call_changes_them():
    printed = create_api_client(
        "--account", "acme", "--email", "ops@acme.test", "--total-quota", "1000", "--connect-daily-quota", "50"
    )
    create_api_client("--account", "acme", "--email", "ops@acme.test", "--total-quota", "2000")

    user = User.objects.get(email="ops@acme.test")
    assert AccountQuota.objects.get(account_id=printed["account_id"]).total_limit == 2000
    # A quota left out of a later call is kept.
    assert UserQuota.objects.get(user=user).connect_daily_limit == 50


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--total-quota", "-1", "argument --total-quota: must be zero or more, got -1"),
        ("--connect-daily-quota", "ten", "argument --connect-daily-quota: must be a whole number, got 'ten'"),
    ],
)
def test_a_quota_that_is_not_a_whole_number_of_zero_or_more_is_refused(option, value, message):
    with pytest.raises(CommandError, match=message):
        create_api_client("--account", "acme", "--email", "ops@acme.test", option, value)
    assert not Account.objects.filter(name="acme").exists()


@pytest.mark.django_db
def test_refuses_the_email_of_another_accounts_user_and_creates_nothing():
    other = factories.account_make("other")
    factories.user_make(other, "taken@example.test")

    with pytest.raises(CommandError, match="^taken@example.test is already a user of another account;"):
        create_api_client("--account", "acme", "--email", "TAKEN@example.test")

    assert not Account.objects.filter(name="acme").exists()
    assert User.objects.get(email="taken@example.test").account_id == other.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("account_name", "email", "message"),
    [
        ("acme", "not-an-email", "'not-an-email' is not a valid email address."),
        ("acme", "x" * 140 + "@example.test", "is longer than a username may be."),
        ("  ", "ops@acme.test", "The account name must not be blank."),
        ("a" * 201, "ops@acme.test", "The account name is too long."),
    ],
    ids=["invalid-email", "email-too-long", "blank-account", "account-too-long"],
)
def test_refuses_an_invalid_email_or_account_name_and_creates_nothing(account_name, email, message):
    with pytest.raises(CommandError) as refused:
        create_api_client("--account", account_name, "--email", email)

    assert message in str(refused.value)
    assert not Account.objects.exists() and not User.objects.exists()


@pytest.mark.django_db
def test_a_user_of_no_account_joins_the_account():
    operator = User.objects.create_superuser("admin", "admin@acme.test", "pw")

    printed = create_api_client("--account", "acme", "--email", "admin@acme.test")

    operator.refresh_from_db()
    assert operator.account_id == printed["account_id"]
    assert User.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_printed_credentials_get_a_read_write_token_that_posts_a_bulk_as_the_commands_user(live_service):
    printed = create_api_client("--account", "acme-live", "--email", "ops@acme-live.test")

    with live_service.http() as http:
        response = http.post(
            "/o/token/",
            data={
                "grant_type": "client_credentials",
                "client_id": printed["client_id"],
                "client_secret": printed["client_secret"],
            },
        )
    assert response.status_code == 200, response.text
    issued = response.json()
    assert set(issued["scope"].split()) == {"contacts:read", "contacts:write"}

    token = issued["access_token"]
    with live_service.socket(token=token) as ws, live_service.http(token) as http:
        response = http.post(
            "/api/v1/contacts/bulk",
            json={"list": {"name": "from-cli"}, "contacts": [{"email": "ada@example.test"}]},
        )
        assert response.status_code == 202, response.text
        job_id = response.json()["uuid"]
        # The user's socket hears the job: the token acts as the command's user. Waiting for
        # the end also keeps the job from outliving the test's data.
        assert job_events(ws, job_id)[-1]["data"] == {"uuid": job_id, "created": 1, "updated": 0}
    job = BulkJob.objects.select_related("user").get(pk=job_id)
    assert job.user.email == "ops@acme-live.test"
    assert job.account_id == printed["account_id"]
    contact = Contact.objects.select_related("owner").get(account_id=job.account_id)
    assert contact.owner.email == "ops@acme-live.test"


@pytest.mark.django_db(transaction=True)
def test_a_wrong_client_secret_gets_no_token(live_service):
    printed = create_api_client("--account", "acme-bad", "--email", "ops@acme-bad.test")

    with live_service.http() as http:
        response = http.post(
            "/o/token/",
            data={"grant_type": "client_credentials", "client_id": printed["client_id"], "client_secret": "wrong"},
        )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
