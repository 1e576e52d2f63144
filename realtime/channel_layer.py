"""The Redis channel layer, keeping a message that a closing socket's receive was fetching
for another socket of the same server.

channels-redis has one of a server's sockets at a time fetch the server's next message
(a blocking pop, then a copy to a backup queue), whichever socket it is for. When the
fetching socket closes, its receive is cancelled; if Redis had popped a message by then
and its reply was still on its way, the message was gone: another user's event, on a
server whose sockets open and close all day. Here the fetch finishes however its receive
ends, and what it fetched goes to its socket's buffer, as it would have; a no-op message
then wakes whichever socket fetches next, which may be the one the message is for.
"""

import asyncio

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer

WAKE_UP = {"type": "layer.wake_up"}  # to a channel of its own, which no consumer reads


class RedisChannelLayer(_RedisChannelLayer):
    async def receive_single(self, channel):
        fetching = asyncio.ensure_future(super().receive_single(channel))
        try:
            return await asyncio.shield(fetching)
        except asyncio.CancelledError:
            if "!" in channel:  # the server's own queue: what it fetches is one of its sockets'
                fetching.add_done_callback(self._fetched_for_another)
            raise

    def _fetched_for_another(self, fetching: asyncio.Future) -> None:
        if fetching.cancelled() or fetching.exception() is not None:
            return
        channels, message = fetching.result()
        for name in channels if isinstance(channels, list) else [channels]:
            self.receive_buffer[name].put_nowait(message)
        # The next fetch, if one started meanwhile, waits in Redis for a message.
        woken = asyncio.ensure_future(self.send(self._wake_up_channel(), WAKE_UP))
        self.receive_cleaners.append(woken)  # held until done, like the layer's own cleaners
        woken.add_done_callback(self.receive_cleaners.remove)

    def _wake_up_channel(self) -> str:
        return f"specific.{self.client_prefix}!wake-up"
