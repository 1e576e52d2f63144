"""Builds and publishes every realtime event: the only code that touches the channel layer.

Events go to one Channels group per user. `running` events travel in chunks (one
channel-layer message carries many events) because one `group_send` costs milliseconds;
the consumer turns each event into one WebSocket frame, in order.
"""

import asyncio
import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

SEND_TIMEOUT = 10  # seconds; a stalled channel layer must not hold a request or a job
MESSAGE_TYPE = "bulk.events"  # handled by EventsConsumer.bulk_events
STARTING = "contact_bulk_create_starting"
RUNNING = "contact_bulk_create_running"
ENDING = "contact_bulk_create_ending"

# Set when the background work runs inside the server process (embedded default): the
# in-memory layer lives on the server's event loop, so sends are scheduled onto it.
_server_loop: asyncio.AbstractEventLoop | None = None


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def starting(*, job_id: str, list_id: str) -> dict:
    return {"event": STARTING, "data": {"listId": list_id, "uuid": job_id}}


def running(*, job_id: str, index: int, total: int) -> dict:
    return {"event": RUNNING, "data": {"uuid": job_id, "i": index, "total": total}}


def ending(*, job_id: str, created: int, updated: int, failed: int) -> dict:
    data = {"uuid": job_id, "created": created, "updated": updated}
    if failed:
        data["failed"] = failed
    return {"event": ENDING, "data": data}


def job_ending(job) -> dict:
    """A finished job's `ending`: rows never processed (a job that stopped) count as failed."""
    failed = job.failed + (job.total - job.processed)
    return ending(job_id=str(job.pk), created=job.created, updated=job.updated, failed=failed)


def job_catch_up(job, *, after: int) -> list[dict]:
    """What a client that saw the job's events up to index `after` missed: the `running`
    events of the rows committed since, and the `ending` if the job is finished."""
    missed = [running(job_id=str(job.pk), index=i, total=job.total) for i in range(max(after + 1, 0), job.processed)]
    if job.finished_at is not None:
        missed.append(job_ending(job))
    return missed


def publish(*, user_id: int, events: Iterable[dict]) -> None:
    """Send events to every socket of a user, in order, as few channel-layer messages."""
    events = list(events)
    size = settings.REALTIME_EVENTS_PER_MESSAGE
    for start in range(0, len(events), size):
        _group_send(user_group(user_id), {"type": MESSAGE_TYPE, "events": events[start : start + size]})


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _server_loop
    _server_loop = loop


def _group_send(group: str, message: dict) -> None:
    """Send one message; a channel-layer failure is logged, never raised: events are
    notifications, and the data they describe is already committed."""
    layer = get_channel_layer()
    try:
        if _server_loop is not None:
            future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _server_loop)
            future.result(timeout=SEND_TIMEOUT)
        else:
            async_to_sync(_send_with_timeout)(layer, group, message)
    except Exception:
        logger.exception("Could not publish %s events to %s", len(message["events"]), group)


async def _send_with_timeout(layer, group: str, message: dict) -> None:
    await asyncio.wait_for(layer.group_send(group, message), timeout=SEND_TIMEOUT)
