"""The bulk job worker: django-tasks-db's database worker, woken by wake-ups rather than
sleeping out its poll interval between tasks."""

from django_tasks_db.management.commands.db_worker import Worker

from .worker_wakeup import WakeupListener


class BulkWorker(Worker):
    def __init__(self, *, queue_names: list[str], interval: float, worker_id: str):
        # Batch mode: the library's loop runs every ready task, then returns here to wait.
        super().__init__(
            queue_names=queue_names, interval=interval, batch=True, backend_name="default",
            startup_delay=False, max_tasks=None, worker_id=worker_id, excluded_queue_names=[],
        )
        self.wakeup = WakeupListener()

    def run(self) -> None:
        try:
            while self.running:
                super().run()
                if self.running:
                    self.wakeup.wait(self.interval)
        finally:
            self.wakeup.close()
