"""An account's jobs apply in the order they were accepted, as one after the other would,
however many workers take them: a job whose turn has not come stops, marked waiting, and
the end of the job before it gives it a task again (contacts.services)."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import BulkJob
from .tasks import bulk_job_enqueue


def earlier_job_unfinished(job: BulkJob) -> bool:
    """Whether a job of the account accepted before this one has yet to end: the account's
    jobs apply in the order they were accepted, as one after the other would (those of one
    queue: the workers of another, a deployment of their own, may never take its jobs)."""
    return earlier_jobs_unfinished(job).exists()


def earlier_jobs_unfinished(job: BulkJob) -> QuerySet:
    """The unfinished jobs of the account accepted before this one (earlier_job_unfinished)."""
    earlier = Q(created_at__lt=job.created_at) | Q(created_at=job.created_at, pk__lt=job.pk)
    unfinished = BulkJob.objects.filter(account_id=job.account_id, queue=job.queue, status__in=BulkJob.UNFINISHED)
    return unfinished.filter(earlier)


def next_job_release(*, account_id: int, queue: str) -> None:
    """Give its turn to the account's next job, if it stopped to wait for it. The caller
    holds the account's lock, in its transaction (a job's end): where a job decides to
    wait, so that it either saw the ended job ended, or is marked waiting by then."""
    waiting = (
        BulkJob.objects.filter(account_id=account_id, queue=queue, status__in=BulkJob.UNFINISHED, waiting_turn=True)
        .order_by("created_at", "pk")
        .only("pk", "account_id", "queue", "created_at")
        .first()
    )
    if waiting is None or earlier_job_unfinished(waiting):
        return
    task_id = bulk_job_enqueue(job_id=str(waiting.pk))
    BulkJob.objects.filter(pk=waiting.pk).update(waiting_turn=False, task_id=task_id, heartbeat_at=timezone.now())
