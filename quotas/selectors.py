"""Quota reads: limits and what counts against them, reservations of unfinished jobs included."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db.models import F, Sum
from django.db.models.functions import Greatest

from contacts.models import BulkJob, Contact

from .models import AccountQuota, ConnectUsage, UserQuota


@dataclass(frozen=True)
class QuotaState:
    limit: int | None
    used: int


def utc_today() -> date:
    return datetime.now(UTC).date()


def quota_total_state(*, account_id: int) -> QuotaState:
    """Contacts the account holds plus creations reserved by its unfinished jobs."""
    quota = AccountQuota.objects.filter(account_id=account_id).first()
    held = Contact.objects.filter(account_id=account_id).count()
    reserved = _reserved(BulkJob.objects.filter(account_id=account_id), "reserved_creates", "created")
    return QuotaState(limit=quota.total_limit if quota else None, used=held + reserved)


def quota_connect_state(*, user_id: int) -> QuotaState:
    """`connect` contacts the user created today plus those its unfinished jobs reserved."""
    quota = UserQuota.objects.filter(user_id=user_id).first()
    usage = ConnectUsage.objects.filter(user_id=user_id, day=utc_today()).first()
    reserved = _reserved(
        BulkJob.objects.filter(user_id=user_id), "reserved_connect_creates", "connect_created"
    )
    return QuotaState(
        limit=quota.connect_daily_limit if quota else None,
        used=(usage.created if usage else 0) + reserved,
    )


def _reserved(jobs, reserved_field: str, done_field: str) -> int:
    remaining = Greatest(F(reserved_field) - F(done_field), 0)
    total = jobs.filter(status__in=BulkJob.UNFINISHED).aggregate(n=Sum(remaining))["n"]
    return total or 0
