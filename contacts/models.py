import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from .fields import DEFAULT_LANGUAGE, DEFAULT_SOURCE, SOURCES
from .ids import contact_id


def _empty_list() -> list:
    # A callable default; a model's `list` field shadows the builtin inside its class body.
    return []


class Contact(models.Model):
    """A person of an account, in one of its lists, matched by email then LinkedIn URL."""

    id = models.UUIDField(primary_key=True, default=contact_id, editable=False)  # UUIDv7: contacts/ids.py
    # No index of their own on account and list: the composite indexes below start with
    # them, and every index costs each of a bulk job's inserts and updates.
    # On PostgreSQL triggers stand for the three plain foreign keys (migrations 0009, 0018):
    # the database refuses a contact whose list or owner is not of its account, checking
    # the distinct lists and owners of a statement's new contacts, not each contact.
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    list = models.ForeignKey(
        "lists.ContactList", on_delete=models.PROTECT, related_name="contacts", db_index=False, db_constraint=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )

    email = models.TextField(null=True, blank=True)
    email_key = models.TextField(null=True, blank=True, editable=False)
    linkedin_url = models.TextField(null=True, blank=True)
    linkedin_key = models.TextField(null=True, blank=True, editable=False)

    collected_at = models.DateTimeField()
    source = models.CharField(
        max_length=16, choices=[(s, s) for s in SOURCES], default=DEFAULT_SOURCE
    )
    language = models.CharField(max_length=2, default=DEFAULT_LANGUAGE)
    vars = models.JSONField(default=dict, blank=True)
    first_name = models.TextField(null=True, blank=True)
    last_name = models.TextField(null=True, blank=True)
    company_industry = models.TextField(null=True, blank=True)
    company_name = models.TextField(null=True, blank=True)
    company_size = models.TextField(null=True, blank=True)
    company_description = models.TextField(null=True, blank=True)
    company_website = models.TextField(null=True, blank=True)
    city = models.TextField(null=True, blank=True)
    country = models.TextField(null=True, blank=True)
    zipcode = models.TextField(null=True, blank=True)
    mobile_phone = models.TextField(null=True, blank=True)
    phone = models.TextField(null=True, blank=True)
    picture_url = models.TextField(null=True, blank=True)
    job_title = models.TextField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "email_key"], name="contact_email_unique"),
            models.UniqueConstraint(fields=["account", "linkedin_key"], name="contact_linkedin_unique"),
            models.CheckConstraint(
                condition=models.Q(email_key__isnull=False) | models.Q(linkedin_key__isnull=False),
                name="contact_has_email_or_linkedin",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "created_at", "id"], name="contact_account_created"),
            models.Index(fields=["list", "created_at", "id"], name="contact_list_created"),
        ]

    def __str__(self) -> str:
        return self.email or self.linkedin_url or str(self.id)


def _cascade_unless_unfinished(collector, field, sub_objs, using):
    """A job's list or user takes its finished jobs with it when deleted; a job that has yet
    to apply its accepted contacts stops the deletion instead."""
    _protect_unfinished(field, sub_objs.filter(status__in=BulkJob.UNFINISHED))
    models.CASCADE(collector, field, sub_objs, using)


def _cascade_unless_job_unfinished(collector, field, sub_objs, using):
    """The same for the users a job's rows name as owners."""
    _protect_unfinished(field, sub_objs.filter(job__status__in=BulkJob.UNFINISHED))
    models.CASCADE(collector, field, sub_objs, using)


def _protect_unfinished(field, unfinished) -> None:
    if unfinished.exists():
        raise models.ProtectedError(
            f"Bulk jobs still to run use this {field.remote_field.model._meta.verbose_name}: "
            "delete it once they end.",
            set(unfinished),
        )


class BulkJob(models.Model):
    """One bulk request: its validated payload, its progress and its outcome."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    UNFINISHED = (Status.QUEUED, Status.RUNNING)
    # Not stored: True on the job bulk_job_create answers a retry with while the retry's
    # first request may still be answering (whose 202 lets the job's `ending` go).
    first_answer_pending = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=_cascade_unless_unfinished, related_name="+")
    # Owner of created contacts whose row names none; null: `user` (set by admin imports).
    default_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=_cascade_unless_unfinished, related_name="+"
    )
    default_source = models.CharField(max_length=16, default=DEFAULT_SOURCE)  # admin imports: `import`
    list = models.ForeignKey("lists.ContactList", on_delete=_cascade_unless_unfinished, related_name="+")
    move_to_list = models.BooleanField(default=False)
    replace_owner = models.BooleanField(default=False)
    # Validated rows (model attribute names; absent fields absent), as compressed JSON:
    # 10,000 rows are ~6 MB of JSON, ~0.5 MB stored (see contacts/payload.py).
    payload = models.BinaryField(editable=False)

    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField()
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=_empty_list, blank=True)
    failure_reason = models.TextField(blank=True, default="")

    # Quota reservations, released as contacts are created or the job ends.
    reserved_creates = models.PositiveIntegerField(default=0)
    reserved_connect_creates = models.PositiveIntegerField(default=0)
    connect_created = models.PositiveIntegerField(default=0)
    starting_sent = models.BooleanField(default=False)
    # Its request has yet to write the 202, which the job's `ending` waits for (it runs
    # meanwhile). A default in the database too: servers of the release before, running
    # while the migration is applied, store jobs without it.
    answer_pending = models.BooleanField(default=False, db_default=False)
    # The rows whose `running` events the channel layer has had, as of the last chunk's commit.
    events_sent = models.PositiveIntegerField(default=0)
    # Stopped to wait for a job of its account accepted before it, whose end gives it a task.
    waiting_turn = models.BooleanField(default=False)
    queue = models.CharField(max_length=64, default="default")  # settings.BULK_QUEUE of its server
    task_id = models.CharField(max_length=64, blank=True, default="")

    created_at = models.DateTimeField(auto_now_add=True)
    # Renewed by whoever processes the job; a stale one means its worker died (see recovery).
    heartbeat_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Resumes by the recovery loop in a row with no chunk committed in between; past
    # BULK_MAX_STALLED_RESUMES the job fails rather than be resumed forever.
    stalled_resumes = models.PositiveIntegerField(default=0)
    processed_at_resume = models.PositiveIntegerField(null=True, blank=True)

    def failed_rows(self) -> int:
        """Rows that failed: those refused one by one and, once the job has ended, the rows
        it never reached (a job that failed stops there). The status endpoint and `ending`
        give this number."""
        unreached = 0 if self.status in self.UNFINISHED else self.total - self.processed
        return self.failed + unreached

    class Meta:
        indexes = [
            models.Index(fields=["account", "status"], name="bulkjob_account_status"),
            models.Index(fields=["status", "heartbeat_at"], name="bulkjob_status_heartbeat"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.id)


class BulkJobOwner(models.Model):
    """A user that rows of a job name as their contact's owner: the user cannot be deleted
    before the job has created those contacts (their owner is checked at the commit)."""

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=_cascade_unless_job_unfinished, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "user"], name="bulk_job_owner_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.job_id}"


class IdempotencyKey(models.Model):
    """An `Idempotency-Key` a user's bulk request into an account came with, and the job it got."""

    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+")
    # Keys are the caller's own: another user's request with the same key is another request.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64)
    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user", "key"], name="idempotency_key_unique_per_user"),
        ]


class PlannedCreation(models.Model):
    """A contact an unfinished job is to create, planned where a quota counts creations:
    `row` is the job's row that creates it. A later request naming its keys plans an update
    of it, as applying the jobs in turn would. Removed as the job ends."""

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey("accounts.Account", on_delete=models.CASCADE, related_name="+", db_index=False)
    row = models.PositiveIntegerField()
    email_key = models.TextField(null=True)
    linkedin_key = models.TextField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "email_key"], name="planned_creation_email"),
            models.Index(fields=["account", "linkedin_key"], name="planned_creation_linkedin"),
        ]
