"""Bulk create-or-update of contacts: accepting a job, then processing it in chunks."""

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache, partial

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, QuerySet, Value
from django.db.models.functions import Coalesce, Lower
from django.utils import timezone

from accounts.models import Account, User

from lists.selectors import list_find, list_find_by_name
from lists.services import list_get_or_create, list_held
from quotas.services import connect_usage_add, quota_check
from realtime import events

from .bulk_input import BodyProblems, BulkBody
from .fields import DEFAULT_SOURCE
from .idempotency import RequestKey, idempotency_record, idempotent_job
from .models import BulkJob, BulkJobOwner, PlannedCreation
from .creation_plan import creation_plan
from .job_order import earlier_job_unfinished, earlier_jobs_unfinished, next_job_release
from .planned_creations import planned_creations_store
from .job_payload import job_payload, job_payload_store
from .payload import StoredPiece, payload_of_packed
from .problems import problems_gathered
from .tasks import answer_grace_enqueue, bulk_job_enqueue, bulk_tasks_live
from .chunk_apply import Chunk, chunk_rows_apply
from .chunk_connections import ChunkConnections
from .job_rows import JobChunks, JobRows
from .creation_budget import CreationBudget
from .upsert import UpsertOptions

logger = logging.getLogger(__name__)

UNKNOWN_LIST = "no list of your account has this id"
FIRST_ANSWER_WITHIN = timedelta(seconds=5)


@dataclass(frozen=True)
class BulkFlags:
    move_to_list: bool = False
    replace_owner: bool = False
    # An admin operator importing into an account: the account, and the owner of contacts
    # whose row names none (default: the caller and the caller's account).
    account_id: int | None = None
    default_owner_id: int | None = None
    default_source: str = DEFAULT_SOURCE  # of created contacts whose row names none


def bulk_job_create(
    *, user: User, request: BulkBody, flags: BulkFlags, request_key: RequestKey | None = None,
    answered_later: bool = False,
) -> BulkJob:
    """Accept a bulk request: check it, reserve quota, store the job, let a worker process
    it at once, and announce it. answered_later: the caller answers the request once this
    returns, and says so with bulk_job_answered; the job's `ending` waits for that.

    Raises BodyProblems (400), PermissionDenied (403: the caller left the account meanwhile),
    QuotaExceeded (402) or IdempotencyConflict (422); then nothing is written or sent. A
    request repeating an idempotency key answers its job.
    """
    account_id = flags.account_id or user.account_id
    if request_key is not None and (earlier := _replayed(account_id=account_id, user=user, request_key=request_key)):
        return earlier
    list_id, owners = problems_gathered(
        lambda: _list_id(account_id=account_id, request=request),
        lambda: _owners(account_id=account_id, request=request),
    )
    pieces = request.stored_pieces(settings.BULK_CHUNK_SIZE)
    payload = payload_of_packed(pieces=pieces, owners=owners)
    with transaction.atomic():
        Account.objects.select_for_update().get(pk=account_id)
        # A retry that waited for the lock behind its first request finds its job now.
        earlier = idempotent_job(account_id=account_id, user_id=user.pk, request_key=request_key) if request_key else None
        if earlier is None:
            job = _job_stored(
                account_id=account_id, user=user, request=request, flags=flags, request_key=request_key,
                list_id=list_id, owners=owners, pieces=pieces, payload=payload,
                answered_later=answered_later,
            )
    if earlier is not None:
        return _replay_announced(earlier)
    bulk_job_announce(job_id=job.pk)
    return job


def _job_stored(
    *, account_id: int, user: User, request: BulkBody, flags: BulkFlags, request_key: RequestKey | None,
    list_id, owners: dict[str, int], pieces: list[StoredPiece], payload: bytes, answered_later: bool,
) -> BulkJob:
    """Check what may have changed before the account's lock, reserve the quota, and store
    the job and its task (the caller holds the lock)."""
    # Users read before the lock, checked again under it: an admin moving a user out of
    # the account holds it from its check to its save, so a move is either seen here or
    # waits for this job to be stored (and then refused while the job runs).
    _default_owner_check(account_id=account_id, user=user, flags=flags)
    if list_id is not None and not list_held(account_id=account_id, list_id=list_id):
        list_id = _list_id(account_id=account_id, request=request)  # deleted meanwhile: 400, or made again
    if owners and (held := _owners(account_id=account_id, request=request)) != owners:
        owners = held
        payload = payload_of_packed(pieces=pieces, owners=owners)
    plan = creation_plan(account_id=account_id, user=user, request=request, payload=payload, flags=flags)
    quota_check(account_id=account_id, user_id=user.pk, creates=plan.creates, connect_creates=plan.connect_creates)
    if list_id is None:
        list_id = list_get_or_create(account_id=account_id, name=request.list.name).pk
    job_id = uuid.uuid4()
    job = BulkJob.objects.create(
        id=job_id,
        # Its worker may start as the job commits, before `starting` is sent: whichever
        # comes first sends it (bulk_job_announce), before any other event of the job.
        task_id=bulk_job_enqueue(job_id=str(job_id)),
        answer_pending=answered_later,
        account_id=account_id,
        user=user,
        default_owner_id=flags.default_owner_id,
        default_source=flags.default_source,
        list_id=list_id,
        move_to_list=flags.move_to_list,
        replace_owner=flags.replace_owner,
        total=request.total,
        reserved_creates=plan.creates,
        reserved_connect_creates=plan.connect_creates,
        queue=settings.BULK_QUEUE,
    )
    job_payload_store(job, payload)
    planned_creations_store(job, plan.planned)
    BulkJobOwner.objects.bulk_create([BulkJobOwner(job=job, user_id=pk) for pk in set(owners.values())])
    if request_key is not None:
        idempotency_record(account_id=account_id, user_id=user.pk, request_key=request_key, job=job)
    return job


def _replayed(*, account_id: int, user: User, request_key: RequestKey) -> BulkJob | None:
    """The job a retried request already got, whatever has changed since (an owner gone, a
    list deleted): looked up before anything of the request is checked again. Announced
    first, as its first answer was: a retry arriving before that cannot get its 202
    before `starting`."""
    earlier = idempotent_job(account_id=account_id, user_id=user.pk, request_key=request_key)
    return _replay_announced(earlier) if earlier is not None else None


def _replay_announced(job: BulkJob) -> BulkJob:
    bulk_job_announce(job_id=job.pk)
    # A first request answers within moments of its commit; one stored longer ago than
    # that died before its 202, and its retry's 202 lets the `ending` go instead of the grace.
    job.first_answer_pending = timezone.now() - job.created_at < FIRST_ANSWER_WITHIN
    return job


def bulk_job_announce(*, job_id) -> None:
    """Send the job's `starting` event once.

    The request does this right after committing; the worker does it too, before anything
    else, as it may start first or the request may die in between. The row lock makes the
    two agree on who sends it. Sent already, the row is not locked: the worker, having
    sent it, holds that lock for the whole of each chunk, which the 202 would wait for.
    """
    if BulkJob.objects.filter(pk=job_id, starting_sent=True).exists():
        return
    with transaction.atomic():
        job = BulkJob.objects.select_for_update().defer("payload").get(pk=job_id)
        if not job.starting_sent:
            events.publish(
                user_id=job.user_id,
                events=[events.starting(job_id=str(job.pk), list_id=str(job.list_id))],
            )
            job.starting_sent = True
            job.save(update_fields=["starting_sent"])


def bulk_job_answered(*, job_id) -> None:
    """The job's request has written its 202 (or a retry's, or ANSWER_GRACE has passed): the
    `ending` may go. Sent here if the job has ended already; else its end sends it. Their
    updates of the job's row make the two agree on who sends it (_job_end). The update
    waits for a chunk its worker has open (which holds the row): the 202 is out by then,
    and only the request's own thread and connection wait."""
    with transaction.atomic():
        if not BulkJob.objects.filter(pk=job_id, answer_pending=True).update(answer_pending=False):
            return
        job = BulkJob.objects.defer("payload").get(pk=job_id)
    if job.status not in BulkJob.UNFINISHED:
        events.publish(user_id=job.user_id, events=[events.job_ending(job)])


def bulk_job_process(*, job_id) -> None:
    """Create and update the job's contacts chunk by chunk, publishing progress as chunks commit."""
    job = BulkJob.objects.defer("payload").get(pk=job_id)
    if not job.starting_sent:  # its request has yet to announce it, or died before
        bulk_job_announce(job_id=job_id)
    if job.status not in BulkJob.UNFINISHED:
        return
    now = timezone.now()
    BulkJob.objects.filter(pk=job.pk, status__in=BulkJob.UNFINISHED).update(
        status=BulkJob.Status.RUNNING, started_at=Coalesce("started_at", Value(now)), heartbeat_at=now
    )
    options = UpsertOptions(
        account_id=job.account_id,
        list_id=job.list_id,
        caller_id=job.default_owner_id or job.user_id,
        default_source=job.default_source,
        move_to_list=job.move_to_list,
        replace_owner=job.replace_owner,
        collected_at_default=job.created_at,
    )
    running = _RunningEvents(job)
    running.send(start=job.events_sent, stop=job.processed)  # those a runner before may not have sent
    chunks = JobChunks(partial(_job_rows, job.pk), size=settings.BULK_CHUNK_SIZE)
    with ChunkConnections(several_chunks=job.total - job.processed > settings.BULK_CHUNK_SIZE) as turns:
        end = _chunks_commit(job, chunks, options, running=running, turns=turns)
        if end is not None:
            # Once no chunk is left open on either connection, and before the second goes
            # back to the pool and the job's rows are freed (~4 ms `ending` need not wait for).
            turns.copies_rolled_back()
            _job_end(job, status=end[0], reason=end[1], running=running)


def _job_rows(job_id) -> JobRows:
    return JobRows(job_payload(job_id))


class _RunningEvents:
    """A job's `running` events, sent as its chunks commit, and how far the channel layer has
    had them. Each chunk's commit records that; a runner resuming the job sends again the
    events after it, which a runner killed right after a commit had not sent (so a resumed
    job may repeat some `running` events, and never loses one)."""

    def __init__(self, job: BulkJob):
        self.job = job
        self._had = job.events_sent
        self._sending: list[tuple[Future, int]] = []  # the last message of each send, and its end
        self._held = (0, 0)

    def send(self, *, start: int, stop: int) -> None:
        if start >= stop:
            return
        frames = self._frames(start, stop)
        self._sending.append((events.publish_frames(user_id=self.job.user_id, frames=frames, wait=False), stop))

    def hold(self, *, start: int, stop: int) -> None:
        """Keep the last chunk's events to go with the job's `ending` (held_frames): a
        socket then gets them all from one channel-layer message, where `ending` alone
        waited for the server's next receive (~6 ms at the end of a 10,000-contact job).
        A runner that dies before the job's end commits leaves the job unfinished, and the
        one resuming it sends them (the job's progress records what the layer has had);
        one that dies between that commit and the send loses them with the `ending`, as
        it lost the `ending` alone before, and a socket's `resume` gives them back. An end
        that fails sends them at once (_job_end)."""
        self._held = (start, stop)

    def held_frames(self) -> list[str]:
        start, stop = self._held
        self._held = (0, 0)
        return self._frames(start, stop) if start < stop else []

    def _frames(self, start: int, stop: int) -> list[str]:
        return events.running_frames(job_id=str(self.job.pk), start=start, stop=stop, total=self.job.total)

    def had(self) -> int:
        """The rows whose events the channel layer has had (sent, or failed to take)."""
        while self._sending and self._sending[0][0].done():
            self._had = self._sending.pop(0)[1]
        return self._had


def _chunks_commit(
    job: BulkJob, chunks: JobChunks, options: UpsertOptions, *, running: _RunningEvents, turns: ChunkConnections
) -> tuple[str, str] | None:
    """Commit the job's chunks left, each announced once committed; return how the job ends
    (its status and why), or None if it is not for this runner to end it."""
    size = settings.BULK_CHUNK_SIZE
    for start in range(job.processed, job.total, size):
        try:
            meanwhile = partial(_next_chunk_ahead, chunks, turns)
            # The first chunk loads the job's rows, here: a payload that cannot be read
            # fails the job like a row that cannot be written.
            if not _chunk_commit(job, chunks.at(start), options, running=running, turns=turns, meanwhile=meanwhile):
                logger.info("Bulk job %s waits for a job of its account accepted before it to end", job.pk)
                return None
        except JobTakenOver:
            logger.info("Bulk job %s is processed by another runner from row %s", job.pk, start)
            return None
        except Exception as exc:
            if _database_away(exc):
                # Not the job's fault: leave it to be resumed from its last committed chunk
                # once the database is back (see bulk_jobs_recover).
                raise
            logger.exception("Bulk job %s failed at row %s", job.pk, start)
            return BulkJob.Status.FAILED, f"{type(exc).__name__}: {exc}"
        # Sent while the next chunk is written; `ending` waits for them (same sender, in order).
        stop = min(start + size, job.total)
        if stop < job.total:
            running.send(start=start, stop=stop)
        else:
            running.hold(start=start, stop=stop)
    return BulkJob.Status.DONE, ""


def _next_chunk_ahead(chunks: JobChunks, turns: ChunkConnections) -> None:
    """While PostgreSQL applies a chunk: prepare the next one, and copy its rows on the
    other connection."""
    chunks.prepare_next()
    turns.copy_ahead(chunks.upcoming)


# SQLSTATE classes of a database away or short of something for a while (connection,
# insufficient resources, shutting down, a deadlock or serialization failure): the job
# waits and resumes. An error without one was raised on our side of a lost connection.
# Any other (a value over an index's size limit, say) is the job's own: it fails.
_AWAY_STATES = ("08", "53", "57P0", "40")
# SQLite's own codes for the same: busy, locked, I/O error, disk full, cannot open.
_SQLITE_AWAY_CODES = (5, 6, 10, 13, 14)


def _database_away(exc: Exception) -> bool:
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    cause = exc.__cause__
    if hasattr(cause, "sqlite_errorcode"):
        return cause.sqlite_errorcode & 0xFF in _SQLITE_AWAY_CODES  # extended codes keep it in the low byte
    state = getattr(cause, "sqlstate", None)
    return state is None or state.startswith(_AWAY_STATES)


def _chunk_commit(
    job: BulkJob, chunk: Chunk, options: UpsertOptions, *, running: _RunningEvents, turns: ChunkConnections,
    meanwhile: Callable[[], None],
) -> bool:
    """Apply one chunk of rows and the job's counters in one transaction (`meanwhile`: work
    to do while the database writes the rows). False: a job of the account accepted before
    this one has yet to end, and this one waits for its turn (the other's end gives it)."""
    start = chunk.start
    with turns.transaction(chunk):
        processed, status, turn_to_wait = _chunk_locks_taken(job)
        if processed != start or status not in BulkJob.UNFINISHED:
            raise JobTakenOver
        if turn_to_wait:
            # Marked under the lock the earlier job's end takes to hand it its turn.
            BulkJob.objects.filter(pk=job.pk).update(waiting_turn=True, heartbeat_at=timezone.now())
            return False
        outcome = chunk_rows_apply(chunk, options=options, budget=CreationBudget(job), meanwhile=meanwhile)
        connect_usage_add(user_id=job.user_id, count=outcome.connect_created)
        job.processed = start + chunk.count
        job.created += outcome.created
        job.updated += outcome.updated
        job.failed += len(outcome.errors)
        job.connect_created += outcome.connect_created
        job.errors = job.errors + outcome.errors
        job.heartbeat_at = timezone.now()
        job.events_sent = running.had()
        job.save(
            update_fields=[
                "processed", "created", "updated", "failed", "connect_created", "errors", "heartbeat_at", "events_sent",
            ]
        )
    return True


def _chunk_locks_taken(job: BulkJob) -> tuple[int, str, bool]:
    """Open a chunk's transaction: the account's lock, then the job's, with the job's
    progress, its status and whether its turn has yet to come; on PostgreSQL in one round
    trip, compiled once per job (0.6 ms a chunk against 2.2 as three round trips compiled
    each time), the commit set not to wait for the flush.

    - The account's lock: one writer per account at a time, for sequential semantics
      across jobs and quota reservations that cannot interleave with creations.
    - The job's: exactly once per chunk, as a runner that lost the job (its heartbeat went
      stale and another took over) finds its progress moved on and stops. Whether its turn
      has come is read under the account's lock, which every job's end takes.
    - No flush: the chunk's commit returns before PostgreSQL has flushed it to disk (~2 ms
      of a chunk's ~70). A crash of PostgreSQL may then take back the job's last chunks,
      contacts and progress together (one transaction each), and the job, stalled, is
      resumed from the last chunk kept, applying the same accepted rows again; the job's
      end flushes, and with it every chunk before it. A killed worker loses nothing.
    """
    if connection.vendor != "postgresql":
        account, current = _chunk_locks(job)
        account.get()
        return current.get()
    with connection.cursor() as cursor:
        cursor.execute(*_chunk_locks_sql(job.pk, job.account_id, job.queue, job.created_at))
        cursor.nextset()
        if cursor.fetchone() is None:
            raise Account.DoesNotExist(f"no account {job.account_id}")
        cursor.nextset()
        row = cursor.fetchone()
    if row is None:
        raise BulkJob.DoesNotExist(f"no bulk job {job.pk}")
    return row


def _chunk_locks(job: BulkJob) -> tuple[QuerySet, QuerySet]:
    account = Account.objects.select_for_update().filter(pk=job.account_id).values_list("pk")
    current = (
        BulkJob.objects.select_for_update()
        .filter(pk=job.pk)
        .annotate(turn_to_wait=Exists(earlier_jobs_unfinished(job)))
        .values_list("processed", "status", "turn_to_wait")
    )
    return account, current


@lru_cache(maxsize=64)
def _chunk_locks_sql(job_id, account_id: int, queue: str, created_at) -> tuple[str, tuple]:
    """The statements that open each chunk of a job, compiled once per job (~1 ms each time)."""
    job = BulkJob(pk=job_id, account_id=account_id, queue=queue, created_at=created_at)
    (account_sql, account_params), (current_sql, current_params) = (
        query.query.sql_with_params() for query in _chunk_locks(job)
    )
    return f"SET LOCAL synchronous_commit = off; {account_sql}; {current_sql}", (*account_params, *current_params)


class JobTakenOver(Exception):
    """Another runner has processed this chunk of the job already."""


def bulk_jobs_recover(*, stale_after: timedelta) -> int:
    """Give a new task to every unfinished job whose runner stopped renewing its heartbeat
    (a worker killed mid-job, or a task lost with its worker). Returns how many.

    A job whose task no worker has taken yet is waiting its turn in the queue, not stalled:
    it is left alone, however long the queue; so is one whose task a worker has just taken
    after such a wait, before its runner renews the heartbeat. Safe to run from every worker at once: jobs
    are claimed with SKIP LOCKED and their heartbeat renewed, and a job that still has a
    live runner is protected by the exactly-once check of _chunk_commit. A job resumed
    BULK_MAX_STALLED_RESUMES times in a row without committing a chunk fails instead: what
    stops it is not going away."""
    now = timezone.now()
    stalled = []
    with transaction.atomic():
        candidates = list(
            BulkJob.objects.select_for_update(skip_locked=True)
            .filter(status__in=BulkJob.UNFINISHED, heartbeat_at__lt=now - stale_after, queue=settings.BULK_QUEUE)
            .only(
                "pk", "account_id", "queue", "created_at", "status", "processed", "stalled_resumes",
                "processed_at_resume", "task_id",
            )
        )
        live = bulk_tasks_live([job.task_id for job in candidates], taken_since=now - stale_after)
        # A job waiting for its turn behind an unfinished job of its account is not stalled
        # either (that job's end gives it its turn); one whose turn came, unannounced, is.
        stale = [job for job in candidates if job.task_id not in live and not earlier_job_unfinished(job)]
        for job in stale:
            resumes = job.stalled_resumes + 1 if job.processed == job.processed_at_resume else 1
            if resumes > settings.BULK_MAX_STALLED_RESUMES:
                stalled.append(job)
                continue
            task_id = bulk_job_enqueue(job_id=str(job.pk))
            BulkJob.objects.filter(pk=job.pk).update(
                heartbeat_at=now, task_id=task_id, stalled_resumes=resumes, processed_at_resume=job.processed,
                waiting_turn=False,
            )
    for job in stale:
        if job in stalled:
            resumes = settings.BULK_MAX_STALLED_RESUMES
            logger.error("Bulk job %s made no progress in %s resumes; it fails", job.pk, resumes)
            reason = f"no progress after {resumes} resumes (the workers' logs say why)"
            _job_end(BulkJob.objects.defer("payload").get(pk=job.pk), status=BulkJob.Status.FAILED, reason=reason)
        else:
            logger.warning("Bulk job %s had a stale heartbeat; queued again to resume", job.pk)
    return len(stale) - len(stalled)


def _job_end(job: BulkJob, *, status: str, reason: str = "", running: _RunningEvents | None = None) -> None:
    """Finish the job once (the conditional update elects who sends `ending`), and give the
    account's next job its turn in the same commit: once the job shows ended, its work in
    the database is all done (a test's end, emptying the tables, raced the hand-over).
    The `running` events held back (of rows committed already) go with the `ending` if
    this ends the job; alone, at once, if the end fails (the database away: the job is
    resumed later, its `ending` then); not at all if another runner ended it, which sent
    them before its `ending` (they would come after it). Should its request have yet to
    write the 202, they go before the end, and the `ending` is left to the answer
    (bulk_job_answered), or to ANSWER_GRACE's end if the request died."""
    held = running.held_frames() if running is not None else []
    if job.answer_pending and BulkJob.objects.filter(pk=job.pk, answer_pending=True).exists():
        # Its 202 may still be on its way, and then the answer sends the `ending`, from
        # another process: every `running` event goes first, all sent before any lock is
        # taken (once cleared, the flag stays so).
        events.publish_frames(user_id=job.user_id, frames=held)  # waits for all sent so far
        held = []
    try:
        with transaction.atomic():
            Account.objects.select_for_update().get(pk=job.account_id)  # the account first, as every writer
            finished = BulkJob.objects.filter(pk=job.pk, status__in=BulkJob.UNFINISHED).update(
                status=status, failure_reason=reason, finished_at=timezone.now()
            )
            PlannedCreation.objects.filter(job_id=job.pk).delete()  # its plan, in the same commit
            if finished:
                next_job_release(account_id=job.account_id, queue=job.queue)
                # Read under the row's lock, which an answer's update waits for.
                job.refresh_from_db(fields=["status", "processed", "created", "updated", "failed", "answer_pending"])
                if job.answer_pending:
                    answer_grace_enqueue(job_id=str(job.pk))
    except BaseException:
        if held:
            events.publish_frames(user_id=job.user_id, frames=held)
        raise
    if finished and not job.answer_pending:
        events.publish_frames(user_id=job.user_id, frames=held, last=events.frame(events.job_ending(job)))


def _default_owner_check(*, account_id: int, user: User, flags: BulkFlags) -> None:
    """Raise if the owner of contacts whose row names none (the caller, or the admin
    import's default owner) is no longer an active user of the account."""
    owner_id = flags.default_owner_id or user.pk
    if User.objects.filter(pk=owner_id, account_id=account_id, is_active=True).exists():
        return
    if flags.default_owner_id is None:
        raise PermissionDenied("Your user no longer belongs to this account.")
    raise BodyProblems([{"message": "The default owner is no longer an active user of the account: import again."}])


def _owners(*, account_id: int, request: BulkBody) -> dict[str, int]:
    """Owner emails (lowercased) of the request -> ids of the account's users; raise
    BodyProblems naming each contact whose owner is no active user of the account."""
    refs = request.owner_refs()
    wanted = {owner.lower() for _, owner in refs}
    if not wanted:
        return {}
    users = User.objects.annotate(email_ci=Lower("email")).filter(
        account_id=account_id, email_ci__in=wanted, is_active=True
    )
    owners = {u.email_ci: u.pk for u in users}
    problems = [
        {"index": index, "field": "owner", "message": "no user of your account has this email"}
        for index, owner in refs
        if owner.lower() not in owners
    ]
    if problems:
        raise BodyProblems(problems)
    return owners


def _list_id(*, account_id: int, request: BulkBody):
    """The id of the request's list; None when it is named and does not exist yet."""
    if request.list.id is not None:
        found = list_find(account_id=account_id, list_id=request.list.id)
        if found is None:
            raise BodyProblems([{"field": "list", "message": UNKNOWN_LIST}])
        return found.pk
    found = list_find_by_name(account_id=account_id, name=request.list.name)
    return found.pk if found else None



