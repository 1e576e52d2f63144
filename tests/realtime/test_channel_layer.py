"""The Redis channel layer keeps a message that a closing socket's receive was fetching for
another socket of the same server (realtime/channel_layer.py)."""

import asyncio
import threading
import time
import uuid

import pytest
import redis
from django.conf import settings

from realtime.channel_layer import RedisChannelLayer
from tests.live import EVENT_TIMEOUT, wait_for


def _layer(prefix: str, client_name: str) -> RedisChannelLayer:
    host = {"address": settings.REDIS_URL, "socket_timeout": 15, "client_name": client_name}
    return RedisChannelLayer(hosts=[host], prefix=prefix)


def _sent_by_another_process(prefix: str, channel: str, message: dict) -> None:
    """Send as a worker does: its own layer, on its own event loop (this one is blocked)."""

    async def send():
        layer = _layer(prefix, "sender")
        await layer.send(channel, message)
        await layer.flush()

    thread = threading.Thread(target=asyncio.run, args=(send(),))
    thread.start()
    thread.join(EVENT_TIMEOUT)


async def _until_async(condition, what: str) -> None:
    deadline = time.monotonic() + EVENT_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def test_a_message_fetched_as_the_fetching_sockets_receive_is_cancelled_reaches_its_socket():
    prefix, name = f"layer-test-{uuid.uuid4().hex[:8]}", f"layer-test-{uuid.uuid4().hex[:8]}"
    layer = _layer(prefix, name)
    store = redis.Redis.from_url(settings.REDIS_URL)

    def fetching_blocks() -> bool:
        return any(c.get("name") == name and c.get("cmd") == "bzpopmin" for c in store.client_list())

    async def scenario():
        closing, waiting = await layer.new_channel(), await layer.new_channel()
        fetching = asyncio.ensure_future(layer.receive(closing))  # first in: it fetches for both
        await _until_async(fetching_blocks, "the first receive to block in its fetch")
        other = asyncio.ensure_future(layer.receive(waiting))
        await asyncio.sleep(0)  # the second receive starts waiting for its turn or its message
        _sent_by_another_process(prefix, waiting, {"type": "bulk.events", "frames": ["starting"]})
        queue = prefix + layer.non_local_name(waiting)
        # Polled without yielding to the event loop, which must not read the pop's reply yet.
        wait_for(lambda: store.zcard(queue) == 0, "Redis to pop the message for the fetching receive")
        fetching.cancel()  # the socket closes; the pop's reply is still unread
        with pytest.raises(asyncio.CancelledError):
            await fetching
        try:
            return await asyncio.wait_for(other, timeout=EVENT_TIMEOUT)
        finally:
            await layer.flush()

    assert asyncio.run(scenario()) == {"type": "bulk.events", "frames": ["starting"]}
