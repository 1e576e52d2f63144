"""Hooks of the PostgreSQL connection pool (settings: OPTIONS["pool"])."""

from psycopg_pool import ConnectionPool


def connection_check(conn) -> None:
    """The pool's own check of a connection it hands out; a failure empties the pool.

    Connections opened before a database restart or a network outage are all broken.
    Found one by one, with the pool's growing waits between tries, they would outlast a
    request's wait; emptied at once, the request gets a new connection straight away.
    """
    try:
        ConnectionPool.check_connection(conn)
    except Exception:
        from django.db import connection  # this thread's, whose pool handed `conn` out

        connection.pool.drain()
        raise


def reconnect_again(pool: ConnectionPool) -> None:
    """Called when the pool gives up retrying a lost connection (after `reconnect_timeout`):
    it starts again at once, so it keeps trying about every second until the database is
    back, rather than backing off for minutes or waiting for a request to try."""
    pool.check()  # with no connection in the pool, starts a new attempt
