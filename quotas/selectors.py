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
    reserved = (
        _unfinished(BulkJob.objects.filter(account_id=OuterRef("pk")))
        .values("account_id")
        .annotate(n=Sum(_remaining("reserved_creates", "created")))
        .values("n")
    )
    row = (
        Account.objects.filter(pk=account_id)
        .annotate(held=Coalesce(Subquery(held), 0), reserved=Coalesce(Subquery(reserved), 0))
        .values("held", "reserved", "quota__total_limit")
        .get()
    )
    return QuotaState(limit=row["quota__total_limit"], used=row["held"] + row["reserved"])


def quota_connect_state(*, user_id: int) -> QuotaState:
    """`connect` contacts the user created today plus those its unfinished jobs reserved."""
    usage = ConnectUsage.objects.filter(user_id=OuterRef("pk"), day=utc_today()).values("created")
    reserved = (
        _unfinished(BulkJob.objects.filter(user_id=OuterRef("pk")))
        .values("user_id")
        .annotate(n=Sum(_remaining("reserved_connect_creates", "connect_created")))
        .values("n")
    )
    row = (
        User.objects.filter(pk=user_id)
        .annotate(usage=Coalesce(Subquery(usage), 0), reserved=Coalesce(Subquery(reserved), 0))
        .values("usage", "reserved", "quota__connect_daily_limit")
        .get()
    )
    return QuotaState(limit=row["quota__connect_daily_limit"], used=row["usage"] + row["reserved"])


def _remaining(reserved_field: str, done_field: str):
    return Greatest(F(reserved_field) - F(done_field), 0)


def _unfinished(jobs):
    return jobs.filter(status__in=BulkJob.UNFINISHED).order_by()
