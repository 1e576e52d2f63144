"""How many contacts a chunk of a job may create: the job's reservation, then the quotas' room.

A job can create more than it reserved when an earlier job moved a key away from a contact
it was to update; those creations must fit the quotas as they are when the chunk runs.
Used under the account's lock, like the reservation itself."""

from collections.abc import Callable

from quotas.exceptions import QuotaExceeded
from quotas.selectors import quota_connect_state, quota_limits, quota_total_state
from quotas.services import user_quota_lock

from .models import BulkJob

UNLIMITED = 10**12


class Allowance:
    """Creations one quota allows: first what the job reserved, then the quota's room,
    counted only if a creation needs it."""

    def __init__(self, reserved: int, room_of: Callable[[], int], reason: str):
        self.reserved = max(reserved, 0)
        self.room_of = room_of
        self.room: int | None = None
        self.reason = reason

    def fits(self, count: int = 1) -> bool:
        """Whether `count` more creations fit (the quota's room is counted once, if needed)."""
        if count <= self.reserved:
            return True
        if self.room is None:
            self.room = self.room_of()
        return self.reserved + self.room >= count

    def take(self, count: int = 1) -> None:
        from_reserved = min(count, self.reserved)
        self.reserved -= from_reserved
        if self.room is not None:
            self.room -= count - from_reserved


class CreationBudget:
    def __init__(self, job: BulkJob):
        self.job = job
        self._limits = None
        self.total = Allowance(job.reserved_creates - job.created, self._total_room, QuotaExceeded.TOTAL)
        self.connect = Allowance(
            job.reserved_connect_creates - job.connect_created, self._connect_room, QuotaExceeded.CONNECT
        )
        self.refused_reason = ""

    def take(self, *, connect: bool) -> bool:
        """Whether one more contact (with source `connect` or not) may be created; if so, count it."""
        needed = [self.total, self.connect] if connect else [self.total]
        for allowance in needed:
            if not allowance.fits():
                self.refused_reason = allowance.reason
                return False
        for allowance in needed:
            allowance.take()
        return True

    def take_all(self, *, creates: int, connect_creates: int) -> bool:
        """Whether all these creations fit (`connect_creates` of them with source `connect`);
        if so, count them all, else count none."""
        needed = [(self.total, creates), (self.connect, connect_creates)]
        if not all(allowance.fits(count) for allowance, count in needed):
            return False
        for allowance, count in needed:
            allowance.take(count)
        return True

    def take_written(self, *, creates: int, connect_creates: int) -> bool:
        """Whether creations a chunk has written already fit: within what the job has left
        reserved, or under no limit (a quota's room cannot be counted with them in the
        table); if so, count them."""
        needed = [(self.total, creates, "total"), (self.connect, connect_creates, "connect_daily")]
        if any(count > allowance.reserved and getattr(self.limits(), limit) is not None for allowance, count, limit in needed):
            return False
        for allowance, count, _ in needed:
            allowance.take(count)
        return True

    def refusal(self) -> dict:
        return {"message": f"{self.refused_reason}: no room left under the quota to create this contact"}

    def _total_room(self) -> int:
        return _room(self.limits().total, lambda: quota_total_state(account_id=self.job.account_id))

    def _connect_room(self) -> int:
        def state():
            user_quota_lock(user_id=self.job.user_id)
            return quota_connect_state(user_id=self.job.user_id)

        return _room(self.limits().connect_daily, state)

    def limits(self):
        if self._limits is None:
            self._limits = quota_limits(account_id=self.job.account_id, user_id=self.job.user_id)
        return self._limits


def _room(limit: int | None, state_of) -> int:
    if limit is None:
        return UNLIMITED  # nothing to count
    state = state_of()
    return UNLIMITED if state.limit is None else max(state.limit - state.used, 0)
