"""A database task worker (django-tasks-db's db_worker) that also resumes abandoned bulk jobs."""

from django.conf import settings
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from contacts.recovery import recovery_start


class Command(DbWorkerCommand):
    help = "Run bulk jobs from the database task queue, and resume jobs whose worker died."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(queue_name=settings.BULK_QUEUE)

    def handle(self, *args, **options):
        recovery_start()
        return super().handle(*args, **options)
