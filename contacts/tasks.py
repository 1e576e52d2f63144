"""Background work, run by the database task worker (django-tasks-db)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .worker_wakeup import workers_wake

# A job's task waits this long for the request to announce the job (send `starting`).
# The request releases it at once; the delay only matters if the request died in between.
ANNOUNCE_GRACE = timedelta(seconds=30)


@task
def process_bulk_job(job_id: str) -> None:
    from .services import bulk_job_process

    bulk_job_process(job_id=job_id)


def bulk_job_enqueue(*, job_id: str, deferred: bool = True) -> str:
    """Enqueue a job's processing (held back until released, if deferred); returns the task's id."""
    # Never None: the queue takes tasks by run_after, and None sorts after every date, so a
    # resumed job would wait behind every job released after it.
    run_after = timezone.now() + (ANNOUNCE_GRACE if deferred else timedelta())
    task = process_bulk_job.using(queue_name=settings.BULK_QUEUE, run_after=run_after)
    task_id = str(task.enqueue(job_id).id)
    if not deferred:
        workers_wake(queue=settings.BULK_QUEUE)
    return task_id


def bulk_job_release(*, task_id: str) -> None:
    """Let a worker take the job's task now."""
    DBTaskResult.objects.filter(id=task_id).update(run_after=timezone.now())
    workers_wake(queue=settings.BULK_QUEUE)


def bulk_tasks_live(task_ids: list[str], *, taken_since) -> set[str]:
    """Those of the tasks that no worker has taken yet, or that a worker took since
    `taken_since` (its runner is starting: the job's heartbeat comes next)."""
    live = DBTaskResult.objects.filter(id__in=[i for i in task_ids if i]).filter(
        Q(status=TaskResultStatus.READY) | Q(status=TaskResultStatus.RUNNING, started_at__gte=taken_since)
    )
    return {str(pk) for pk in live.values_list("id", flat=True)}
