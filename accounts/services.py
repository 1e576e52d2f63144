"""Account, user and API-client provisioning (used by create_api_client)."""

from django.db import transaction
from django.utils.crypto import get_random_string
from oauth2_provider.models import get_application_model

from quotas.models import AccountQuota, UserQuota

from .models import Account, User


class UserInAnotherAccount(Exception):
    pass


@transaction.atomic
def api_client_create(
    *, account_name: str, user_email: str, total_quota: int | None = None, connect_daily_quota: int | None = None
) -> dict:
    """Create or reuse the account and its user, set quotas given, and create a
    confidential client-credentials application acting as that user."""
    account, _ = Account.objects.get_or_create(name=account_name)
    user = User.objects.filter(email__iexact=user_email).first()
    if user is None:
        user = User.objects.create_user(username=user_email, email=user_email, account=account)
    elif user.account_id != account.pk:
        raise UserInAnotherAccount(f"{user_email} is a user of another account")
    if total_quota is not None:
        AccountQuota.objects.update_or_create(account=account, defaults={"total_limit": total_quota})
    if connect_daily_quota is not None:
        UserQuota.objects.update_or_create(user=user, defaults={"connect_daily_limit": connect_daily_quota})
    secret = get_random_string(48)
    Application = get_application_model()
    application = Application.objects.create(
        name=f"{account_name} / {user_email}",
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
