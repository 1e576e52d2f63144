"""The contacts unfinished jobs are yet to create, kept where a quota counts creations, so
that a later request plans as applying the jobs in turn would (contacts.services)."""

from django.db import connection
from django.db.models import F, Q

from .models import BulkJob, PlannedCreation

_KEYS_PER_QUERY = 5000  # under SQLite's bound-parameter limit


def planned_creations_store(job: BulkJob, planned: list[tuple[int, str | None, str | None]]) -> None:
    """Store the job's planned creations: (row, email key, LinkedIn key) each."""
    if not planned:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, connection.wrap_database_errors:
            table = PlannedCreation._meta.db_table
            with cursor.copy(f"COPY {table} (job_id, account_id, row, email_key, linkedin_key) FROM STDIN") as copy:
                for row, email, linkedin in planned:
                    copy.write_row((job.pk, job.account_id, row, email, linkedin))
        return
    PlannedCreation.objects.bulk_create(
        [PlannedCreation(job=job, account_id=job.account_id, row=r, email_key=e, linkedin_key=l) for r, e, l in planned],
        batch_size=500,
    )


def planned_creations_pending(account_id: int, *, emails: set[str], linkedins: set[str]) -> list[tuple]:
    """(email key, LinkedIn key) of the creations the account's unfinished jobs have yet to
    reach that hold one of these keys, in the order the jobs will apply them."""
    pending = PlannedCreation.objects.filter(
        account_id=account_id, job__status__in=BulkJob.UNFINISHED, row__gte=F("job__processed")
    )
    found = {}
    for field, keys in (("email_key", sorted(emails)), ("linkedin_key", sorted(linkedins))):
        for i in range(0, len(keys), _KEYS_PER_QUERY):
            matching = pending.filter(Q(**{f"{field}__in": keys[i : i + _KEYS_PER_QUERY]}))
            for pk, *entry in matching.values_list("pk", "job__created_at", "row", "email_key", "linkedin_key"):
                found[pk] = entry
    return [(email, linkedin) for _, _, email, linkedin in sorted(found.values(), key=lambda e: (e[0], e[1]))]
