"""Account, user and API-client provisioning (used by create_api_client)."""

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.crypto import get_random_string
from oauth2_provider.models import get_application_model

from quotas.models import AccountQuota, UserQuota

from .models import Account, User


class ApiClientRefused(Exception):
    """The request cannot be provisioned; the message says why, for the operator."""


class UserInAnotherAccount(ApiClientRefused):
    pass


@transaction.atomic
def api_client_create(
    *, account_name: str, user_email: str, total_quota: int | None = None, connect_daily_quota: int | None = None
) -> dict:
    """Create or reuse the account and its user, set quotas given, and create a
    confidential client-credentials application acting as that user.

    Raises ApiClientRefused (and writes nothing) for an invalid email or account name, and
    UserInAnotherAccount when the email is taken by a user of another account.
    """
    _check_names(account_name=account_name, user_email=user_email)
    account, _ = Account.objects.get_or_create(name=account_name)
    user = User.objects.filter(email__iexact=user_email).first()
    if user is None:
        user = User.objects.create_user(username=user_email, email=user_email, account=account)
    elif user.account_id is None:
        # A user of no account (e.g. made by createsuperuser) cannot call the API; this
        # command is how an operator gives it one.
        user.account = account
        user.save(update_fields=["account"])
    elif user.account_id != account.pk:
        raise UserInAnotherAccount(
            f"{user.email} is already a user of another account; "
            f"use another email, or that account's name as --account"
        )
    if total_quota is not None:
        AccountQuota.objects.update_or_create(account=account, defaults={"total_limit": total_quota})
    if connect_daily_quota is not None:
        UserQuota.objects.update_or_create(user=user, defaults={"connect_daily_limit": connect_daily_quota})
    secret = get_random_string(48)
    Application = get_application_model()
    application = Application.objects.create(
        name=f"{account_name} / {user.email}"[:255],  # the column's length
        user=user,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
    )
    return {
        "account_id": account.pk,
        "user_email": user.email,
        "client_id": application.client_id,
        "client_secret": secret,
    }


def _check_names(*, account_name: str, user_email: str) -> None:
    if not account_name.strip():
        raise ApiClientRefused("The account name must not be blank.")
    if len(account_name) > Account._meta.get_field("name").max_length:
        raise ApiClientRefused("The account name is too long.")
    try:
        validate_email(user_email)
    except ValidationError:
        raise ApiClientRefused(f"{user_email!r} is not a valid email address.") from None
    # The email is also the username, whose column is shorter than an email's.
    if len(user_email) > User._meta.get_field("username").max_length:
        raise ApiClientRefused(f"{user_email!r} is longer than a username may be.")


def accounts_lock(account_ids) -> None:
    """Lock the accounts (ids, None ignored) until the transaction ends, by id: every
    writer locks accounts before users, and several accounts in this one order."""
    ids = sorted({pk for pk in account_ids if pk is not None})
    list(Account.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
