"""The bulk job worker: django-tasks-db's database worker, woken by wake-ups rather than
sleeping out its poll interval between tasks."""

import logging

from django.db import InterfaceError, OperationalError, connection
from django_tasks_db.management.commands.db_worker import Worker

from realtime import events

from .worker_wakeup import WakeupListener

logger = logging.getLogger(__name__)


class BulkWorker(Worker):
    def __init__(self, *, queue_names: list[str], interval: float, worker_id: str):
        # Batch mode: the library's loop runs every ready task, then returns here to wait.
        super().__init__(
            queue_names=queue_names, interval=interval, batch=True, backend_name="default",
            startup_delay=False, max_tasks=None, worker_id=worker_id, excluded_queue_names=[],
        )
        self.wakeup = WakeupListener()
        # The library logs each pass over the queue (its start and its end) at INFO.
        logging.getLogger("django_tasks_db").setLevel(logging.WARNING)

    def run(self) -> None:
        try:
            self.wakeup.listen()  # before the first look: a job stored after it wakes us
            while self.running:
                try:
                    super().run()
                except (OperationalError, InterfaceError) as exc:
                    # The database is away: the jobs wait for it, in it, and so does this
                    # worker (the library's loop lets the error out, which would end it).
                    logger.warning("Database unavailable (%s); looking for jobs again in %ss", exc, self.interval)
                    connection.close()
                if self.running:
                    self.wakeup.wait(self.interval)
        finally:
            self.wakeup.close()
            events.flush()
