"""Waking idle workers the moment a bulk job can run, instead of at their next poll.

A job stored, given its turn or resumed sends a PostgreSQL NOTIFY (delivered when its
transaction commits) that every worker LISTENs for, and sets an event for a worker running
in the same process (the embedded default, where SQLite has no NOTIFY). Polling stays as the fallback: a
worker that misses a wake-up still finds the job within WORKER_POLL_INTERVAL.
"""

import logging
import threading

import psycopg
from django.db import connection, transaction

logger = logging.getLogger(__name__)

CHANNEL = "contacts_bulk_jobs"
_in_process = threading.Event()


def workers_wake(*, queue: str) -> None:
    """Tell the workers of `queue` that a job is ready (at commit, if in a transaction)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, queue])
    transaction.on_commit(_in_process.set)


class WakeupListener:
    """Waits for a wake-up or a timeout. Its own connection LISTENs, outside Django's."""

    def __init__(self):
        self._connection: psycopg.Connection | None = None

    def listen(self) -> None:
        """Start listening now (wait() also does, if the connection was lost)."""
        self._listening()

    def wait(self, timeout: float) -> None:
        listening = self._listening()
        if listening is None:
            _in_process.wait(timeout)
        else:
            try:
                for _ in listening.notifies(timeout=timeout, stop_after=1):
                    pass
            except psycopg.Error:
                logger.warning("Lost the connection listening for jobs; polling until it is back")
                self.close()
        _in_process.clear()

    def _listening(self) -> psycopg.Connection | None:
        if connection.vendor != "postgresql":
            return None
        if self._connection is None or self._connection.closed:
            try:
                params = connection.get_connection_params()
                params = {k: v for k, v in params.items() if k not in ("cursor_factory", "context")}
                # Keepalives: a half-open connection would otherwise just never deliver.
                self._connection = psycopg.connect(
                    **params, autocommit=True, keepalives=1, keepalives_idle=30, keepalives_interval=10, keepalives_count=3
                )
                self._connection.execute(f"LISTEN {CHANNEL}")
            except psycopg.Error:
                self.close()
                return None
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None
