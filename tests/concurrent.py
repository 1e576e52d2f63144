"""Helpers for tests that run database work in a second thread against the test's own."""

from django.db import connection


def in_own_connection(call, *args, **kwargs):
    """Run `call` in this thread's connection, and close it after (the test's flush waits otherwise)."""
    try:
        return call(*args, **kwargs)
    finally:
        connection.close()


def a_backend_waits_for_a_lock() -> bool:
    """Whether a backend of the test's database waits for a lock (a row's, held by another)."""
    return backends_waiting_for_a_lock() > 0


def backends_waiting_for_a_lock() -> int:
    """How many backends of the test's database wait for a lock (a row's, an advisory one)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]
