"""The recovery loop every worker runs beside its tasks: jobs whose runner died resume."""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections

from .services import bulk_jobs_recover

logger = logging.getLogger(__name__)


def recovery_loop(stop: threading.Event) -> None:
    stale_after = timedelta(seconds=settings.BULK_JOB_STALE_SECONDS)
    while not stop.wait(settings.BULK_RECOVERY_INTERVAL):
        try:
            bulk_jobs_recover(stale_after=stale_after)
        except DatabaseError:
            logger.warning("Job recovery could not reach the database; trying again later")
        finally:
            close_old_connections()


def recovery_start() -> threading.Event:
    """Run the recovery loop in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    threading.Thread(target=recovery_loop, args=(stop,), name="bulk-recovery", daemon=True).start()
    return stop
