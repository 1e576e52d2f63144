"""Quota writes. Callers hold the account's lock (see contacts.services), so that the
counts read here cannot change before the reservation is stored; the connect quota, a
user's, takes the user's lock too (user_quota_lock)."""

from django.db.models import F

from accounts.models import User

from .exceptions import QuotaExceeded
from .models import ConnectUsage
from .selectors import quota_connect_state, quota_total_state, utc_today


def quota_check(*, account_id: int, user_id: int, creates: int, connect_creates: int) -> None:
    """Raise QuotaExceeded if creating these contacts would pass a quota."""
    if connect_creates:
        user_quota_lock(user_id=user_id)
        state = quota_connect_state(user_id=user_id)
        if state.limit is not None and state.used + connect_creates > state.limit:
            raise QuotaExceeded(
                QuotaExceeded.CONNECT,
                f"This request creates {connect_creates} contacts with source 'connect'; "
                f"{max(state.limit - state.used, 0)} of your daily {state.limit} remain today (UTC).",
            )
    if creates:
        state = quota_total_state(account_id=account_id)
        if state.limit is not None and state.used + creates > state.limit:
            raise QuotaExceeded(
                QuotaExceeded.TOTAL,
                f"This request creates {creates} contacts; the account holds or has reserved "
                f"{state.used} of its {state.limit}.",
            )


def user_quota_lock(*, user_id: int) -> None:
    """Hold the user's connect quota until the transaction ends: an operator importing into
    several accounts at once holds their locks, not the user's own account's. Taken after
    the account's lock, always; it leaves the user's row free for foreign-key checks."""
    User.objects.select_for_update(no_key=True).filter(pk=user_id).exists()


def connect_usage_add(*, user_id: int, count: int) -> None:
    """Count `connect` contacts created today by a user (inside the creating transaction)."""
    if count <= 0:
        return
    usage, _ = ConnectUsage.objects.get_or_create(user_id=user_id, day=utc_today())
    ConnectUsage.objects.filter(pk=usage.pk).update(created=F("created") + count)
