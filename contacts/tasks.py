"""Background work, run by the database task worker (django-tasks-db)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.tasks import TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .worker_wakeup import workers_wake

# How long a job's `ending` waits for its request to write the 202, should the request die
# before (the contract puts the 202 before the `ending`; the job itself runs at once).
ANSWER_GRACE = timedelta(seconds=30)


@task
def process_bulk_job(job_id: str) -> None:
    from .services import bulk_job_process

    bulk_job_process(job_id=job_id)


@task
def answer_grace_over(job_id: str) -> None:
    from .services import bulk_job_answered

    bulk_job_answered(job_id=job_id)


def bulk_job_enqueue(*, job_id: str) -> str:
    """Enqueue a job's processing, and wake a worker for it (at commit, if in a
    transaction); returns the task's id."""
    # run_after is never None: the queue takes tasks by run_after, and None sorts after
    # every date, so a resumed job would wait behind every job enqueued after it.
    task = process_bulk_job.using(queue_name=settings.BULK_QUEUE, run_after=timezone.now())
    task_id = str(task.enqueue(job_id).id)
    workers_wake(queue=settings.BULK_QUEUE)
    return task_id


def answer_grace_enqueue(*, job_id: str) -> None:
    """Send the job's `ending` after ANSWER_GRACE if its request has not answered by then."""
    answer_grace_over.using(queue_name=settings.BULK_QUEUE, run_after=timezone.now() + ANSWER_GRACE).enqueue(job_id)


def bulk_tasks_live(task_ids: list[str], *, taken_since) -> set[str]:
    """Those of the tasks that no worker has taken yet, or that a worker took since
    `taken_since` (its runner is starting: the job's heartbeat comes next)."""
    live = DBTaskResult.objects.filter(id__in=[i for i in task_ids if i]).filter(
        Q(status=TaskResultStatus.READY) | Q(status=TaskResultStatus.RUNNING, started_at__gte=taken_since)
    )
    return {str(pk) for pk in live.values_list("id", flat=True)}
