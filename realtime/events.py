"""Builds and publishes every realtime event: the only code that touches the channel layer.

Events go to one Channels group per user. `running` events travel in chunks (one
channel-layer message carries many events) because one `group_send` costs milliseconds.
A message carries its events as the JSON texts of their frames: the consumer sends each
text as one WebSocket frame, in order, and nothing is encoded twice.
"""

import asyncio
import concurrent.futures
import json
import logging
import threading
from collections.abc import Iterable

from channels.layers import get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

SEND_TIMEOUT = 10  # seconds; a stalled channel layer must not hold a request or a job
MESSAGE_TYPE = "bulk.events"  # {"type", "frames": [the JSON text of each event]}; see EventsConsumer
STARTING = "contact_bulk_create_starting"
RUNNING = "contact_bulk_create_running"
ENDING = "contact_bulk_create_ending"


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
    return ending(job_id=str(job.pk), created=job.created, updated=job.updated, failed=job.failed_rows())


def job_catch_up(job, *, after: int) -> list[dict]:
    """What a client that saw the job's events up to index `after` missed: the `running`
    events of the rows committed since, and the `ending` if the job is finished."""
    missed = [running(job_id=str(job.pk), index=i, total=job.total) for i in range(max(after + 1, 0), job.processed)]
    if job.finished_at is not None:
        missed.append(job_ending(job))
    return missed


def frame(event: dict) -> str:
    """The text of an event's WebSocket frame."""
    return json.dumps(event, separators=(",", ":"))


_RUNNING_FRAME = '{"event":"%s","data":{"uuid":"%%s","i":%%d,"total":%%d}}' % RUNNING


def running_frames(*, job_id: str, start: int, stop: int, total: int) -> list[str]:
    """The frames of the `running` events of rows start to stop - 1: the texts
    frame(running(...)) gives, formatted without building and encoding a dict per row."""
    return [_RUNNING_FRAME % (job_id, index, total) for index in range(start, stop)]


def publish(*, user_id: int, events: Iterable[dict], wait: bool = True) -> None:
    """Send events to every socket of a user, in order (see publish_frames)."""
    publish_frames(user_id=user_id, frames=[frame(event) for event in events], wait=wait)


def publish_frames(
    *, user_id: int, frames: list[str], wait: bool = True, last: str | None = None
) -> concurrent.futures.Future | None:
    """Send event frames to every socket of a user, in order, as few channel-layer messages.

    Messages leave in the order they were published, from one event loop per process.
    With wait=False this returns at once: a job goes on writing its next chunk while the
    last one's events are sent. wait=True returns once everything published so far is sent.
    `last`: one frame more, in the last message whatever its size (a job's `ending`, with
    its last chunk's events: a socket then gets both from one message, not the second a
    receive later). Returns a future done once the channel layer has had the frames (or
    failed to take them).
    """
    size = settings.REALTIME_EVENTS_PER_MESSAGE
    sender = _sender_get()
    sent = None
    messages = [frames[start : start + size] for start in range(0, len(frames), size)]
    if last is not None:
        messages[-1:] = [[*(messages[-1] if messages else []), last]]
    for message in messages:
        sent = sender.send(user_group(user_id), {"type": MESSAGE_TYPE, "frames": message})
    if wait and not sender.flush():
        logger.warning("Events for user %s are still waiting for the channel layer", user_id)
    return sent


def flush() -> None:
    """Wait until every event this process published is sent (a worker stopping calls it)."""
    if _sender is not None and not _sender.flush():
        logger.warning("Stopping with events the channel layer did not take")


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Send from the server's event loop (the embedded default: the in-memory layer lives there)."""
    global _sender
    with _sender_lock:
        _sender = _OrderedSender(loop)


class _OrderedSender:
    """Sends channel-layer messages one at a time on one event loop, in the order they were
    handed over from any thread. A failure is logged, never raised: events are
    notifications, and the data they describe is already committed."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self._queue: asyncio.Queue | None = None  # created on the loop
        self._drain_task = None
        self._lock = threading.Lock()
        self._pending = 0
        self._last: concurrent.futures.Future | None = None

    def send(self, group: str, message: dict) -> concurrent.futures.Future:
        sent = concurrent.futures.Future()
        with self._lock:
            self._pending += 1
            self._last = sent
        self.loop.call_soon_threadsafe(self._enqueue, group, message, sent)
        return sent

    def flush(self) -> bool:
        """Wait until every message handed over so far is sent; False if that takes longer
        than SEND_TIMEOUT per message still waiting."""
        with self._lock:
            last, pending = self._last, self._pending
        if last is None:
            return True
        try:
            last.result(timeout=SEND_TIMEOUT * pending + 1)
        except concurrent.futures.TimeoutError:
            return False
        return True

    def _enqueue(self, group: str, message: dict, sent: concurrent.futures.Future) -> None:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._drain_task = self.loop.create_task(self._drain())
        self._queue.put_nowait((group, message, sent))

    async def _drain(self) -> None:
        layer = get_channel_layer()
        while True:
            group, message, sent = await self._queue.get()
            try:
                await asyncio.wait_for(layer.group_send(group, message), timeout=SEND_TIMEOUT)
            except Exception:
                logger.exception("Could not publish %s events to %s", len(message["frames"]), group)
            with self._lock:
                self._pending -= 1
            sent.set_result(None)


_sender: _OrderedSender | None = None
_sender_lock = threading.Lock()


def _sender_get() -> _OrderedSender:
    """This process's sender; outside the embedded server, on an event loop of its own."""
    global _sender
    with _sender_lock:
        if _sender is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-publisher", daemon=True).start()
            _sender = _OrderedSender(loop)
        return _sender
