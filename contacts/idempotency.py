"""`Idempotency-Key` on the bulk route: a retried request answers the job it already got.

The same key with the same request (body and query) from the same user into the same
account within IDEMPOTENCY_WINDOW answers the same job, processed once and charged once;
with another request it is a conflict (422). A retry is looked up first, without a lock
(its job is committed, or not yet); then again under the account's lock, where a retry
that waited behind its first request finds the job.
"""

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .models import BulkJob, IdempotencyKey

IDEMPOTENCY_WINDOW = timedelta(hours=24)
MAX_KEY_LENGTH = 255


class IdempotencyConflict(Exception):
    """The key was used with another request."""


@dataclass(frozen=True)
class RequestKey:
    key: str
    digest: str

    @classmethod
    def of(cls, key: str, *, body: bytes, query: str) -> "RequestKey":
        digest = hashlib.sha256(query.encode() + b"\n" + body).hexdigest()
        return cls(key=key, digest=digest)


def idempotency_key_valid(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


def idempotent_job(*, account_id: int, user_id: int, request_key: RequestKey) -> BulkJob | None:
    """The job this key got within the window, or None; IdempotencyConflict for another request."""
    found = (
        IdempotencyKey.objects.select_related("job")
        .filter(
            account_id=account_id,
            user_id=user_id,
            key=request_key.key,
            created_at__gte=timezone.now() - IDEMPOTENCY_WINDOW,
        )
        .first()
    )
    if found is None:
        return None
    if found.request_digest != request_key.digest:
        raise IdempotencyConflict(request_key.key)
    return found.job


def idempotency_record(*, account_id: int, user_id: int, request_key: RequestKey, job: BulkJob) -> None:
    """Remember the key for this job (replacing an expired use of the same key)."""
    IdempotencyKey.objects.update_or_create(
        account_id=account_id,
        user_id=user_id,
        key=request_key.key,
        defaults={"request_digest": request_key.digest, "job": job, "created_at": timezone.now()},
    )
