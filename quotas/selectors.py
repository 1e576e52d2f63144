"""Quota reads: limits and what counts against them, reservations of unfinished jobs included."""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db.models import Count, F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest

from accounts.models import Account, User

from contacts.models import BulkJob, Contact

from .models import AccountQuota, ConnectUsage, UserQuota


@dataclass(frozen=True)
class QuotaState:
    limit: int | None
    used: int


@dataclass(frozen=True)
class QuotaLimits:
    total: int | None
    connect_daily: int | None


def quota_limits(*, account_id: int, user_id: int) -> QuotaLimits:
    """The limits alone (None: unlimited), without counting anything."""
    total = AccountQuota.objects.filter(account_id=account_id).values_list("total_limit", flat=True).first()
    connect = UserQuota.objects.filter(user_id=user_id).values_list("connect_daily_limit", flat=True).first()
    return QuotaLimits(total=total, connect_daily=connect)


def utc_today() -> date:
    return datetime.now(UTC).date()


def quota_total_state(*, account_id: int) -> QuotaState:
    """Contacts the account holds plus creations reserved by its unfinished jobs.

    One statement, so that a chunk committing meanwhile (moving creations from reserved to
    held) is seen on both sides or on neither."""
    held = (
        Contact.objects.filter(account_id=OuterRef("pk"))
        .order_by()
        .values("account_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    reserved = _reserved(owner="account_id", reserved_field="reserved_creates", done_field="created")
    return _state(Account.objects.filter(pk=account_id), held, reserved, limit_field="quota__total_limit")


def quota_connect_state(*, user_id: int) -> QuotaState:
    """`connect` contacts the user created today plus those its unfinished jobs reserved."""
    usage = ConnectUsage.objects.filter(user_id=OuterRef("pk"), day=utc_today()).values("created")
    reserved = _reserved(owner="user_id", reserved_field="reserved_connect_creates", done_field="connect_created")
    return _state(User.objects.filter(pk=user_id), usage, reserved, limit_field="quota__connect_daily_limit")


def _reserved(*, owner: str, reserved_field: str, done_field: str):
    """What the unfinished jobs of the outer row (by `owner`) reserved and have not used yet."""
    jobs = BulkJob.objects.filter(**{owner: OuterRef("pk")}, status__in=BulkJob.UNFINISHED).order_by()
    return jobs.values(owner).annotate(n=Sum(Greatest(F(reserved_field) - F(done_field), 0))).values("n")


def _state(owner_row, used, reserved, *, limit_field: str) -> QuotaState:
    """The limit and `used + reserved` of one account or user, read in one statement."""
    row = (
        owner_row.annotate(used=Coalesce(Subquery(used), 0), reserved=Coalesce(Subquery(reserved), 0))
        .values("used", "reserved", limit_field)
        .get()
    )
    return QuotaState(limit=row[limit_field], used=row["used"] + row["reserved"])
