"""The bulk job worker: runs bulk jobs from the database task queue as soon as they are
stored, and resumes jobs whose worker died."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string

from contacts.recovery import recovery_start
from contacts.worker import BulkWorker
from contacts_project.heap import heap_freeze


class Command(BaseCommand):
    help = "Run bulk jobs from the database task queue, and resume jobs whose worker died."

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default=settings.BULK_QUEUE)
        parser.add_argument(
            "--interval", type=float, default=settings.WORKER_POLL_INTERVAL,
            help="seconds between looks at the queue when no wake-up arrives",
        )
        parser.add_argument("--worker-id", default=None)

    def handle(self, *args, queue_name, interval, worker_id, **options):
        recovery_start()
        worker = BulkWorker(
            queue_names=[queue_name],
            interval=interval,
            worker_id=worker_id or get_random_string(32),
        )
        worker.configure_signals()
        heap_freeze()
        worker.run()
