"""An account's jobs apply in the order they were accepted, as one after the other would,
however many workers take them: a job whose turn has not come waits, and the end of the
job before it gives it its turn."""

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from contacts.bulk_input import bulk_request_parse
from contacts.models import BulkJob, Contact
from contacts.services import BulkFlags, bulk_job_create, bulk_job_process, bulk_jobs_recover
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def _job(user, *contacts) -> BulkJob:
    return bulk_job_create(user=user, request=bulk_request_parse({"list": {"name": "L"}, "contacts": list(contacts)}), flags=BulkFlags())


@pytest.mark.parametrize("sql_apply", [True, False])
def test_a_job_taken_before_the_one_accepted_before_it_waits_and_then_wins(settings, sql_apply):
    settings.BULK_SQL_APPLY = sql_apply
    settings.BULK_CHUNK_SIZE = 1
    account = factories.account_make(total_limit=3)
    user = factories.user_make(account)
    first = _job(user, {"email": "e2@example.test"}, {"email": "e3@example.test"}, {"email": "e1@example.test", "firstName": "A"})
    second = _job(user, {"email": "e1@example.test", "firstName": "B"})  # plans an update of what `first` creates

    bulk_job_process(job_id=second.pk)  # a second worker takes it first
    second.refresh_from_db()
    assert (second.status, second.processed, second.waiting_turn) == ("running", 0, True)
    assert not Contact.objects.filter(email="e1@example.test").exists()

    bulk_job_process(job_id=first.pk)
    second.refresh_from_db()
    assert not second.waiting_turn and DBTaskResult.objects.get(id=second.task_id).status == "READY"  # its turn
    bulk_job_process(job_id=second.pk)

    second.refresh_from_db()
    assert (second.status, second.created, second.updated, second.failed) == ("done", 0, 1, 0)
    assert Contact.objects.get(email="e1@example.test").first_name == "B"
    assert Contact.objects.filter(account=account).count() == 3


def test_recovery_leaves_a_waiting_job_to_its_turn_and_gives_it_one_its_turn_never_came_with():
    account = factories.account_make()
    user = factories.user_make(account)
    first, second = _job(user, {"email": "a@example.test"}), _job(user, {"email": "b@example.test"})
    bulk_job_process(job_id=second.pk)  # waits for `first`
    DBTaskResult.objects.filter(id=second.task_id).update(status="SUCCESSFUL")  # its task ended
    stale = timedelta(seconds=-1)

    assert bulk_jobs_recover(stale_after=stale) == 0  # `first` waits in the queue, `second` for `first`
    assert BulkJob.objects.get(pk=second.pk).task_id == second.task_id

    # `first` ends without handing `second` its turn (its runner killed right after): recovery does.
    BulkJob.objects.filter(pk=first.pk).update(status=BulkJob.Status.DONE)
    DBTaskResult.objects.filter(id=first.task_id).update(status="SUCCESSFUL")
    assert bulk_jobs_recover(stale_after=stale) == 1
    second.refresh_from_db()
    bulk_job_process(job_id=second.pk)
    second.refresh_from_db()
    assert (second.status, second.created) == ("done", 1)
