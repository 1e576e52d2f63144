"""The /ws/ socket: joins its user's group (again and again, for as long as it is open),
forwards each event as one text frame, and answers `resume` messages with what a client
missed of a job."""

import asyncio
import json
import logging
import random

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import DatabaseError

from contacts.selectors import bulk_job_of_user
from contacts_project.asgi_extensions import SEND_TEXTS

from .auth import credentials_hold
from .close_codes import CLOSE_TRY_AGAIN_LATER, CLOSE_UNAUTHENTICATED
from .events import frame, job_catch_up, user_group

JOIN_ATTEMPTS = 3
# The channel layer drops a membership `group_expiry` seconds after the channel last joined
# (its failsafe for servers that die without leaving), however alive the socket is: an open
# socket joins again at least this many times per expiry, so its membership never lapses.
RENEWALS_PER_EXPIRY = 4

logger = logging.getLogger(__name__)


class EventsConsumer(AsyncWebsocketConsumer):
    closing = False
    group = None
    renewal: asyncio.Task | None = None

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the consumer ends (closed, failed, or cancelled by the server before its
            # disconnect ran), no renewal outlives it to keep a dead channel in the group.
            if self.renewal is not None:
                self.renewal.cancel()

    async def connect(self):
        denial = self.scope.get("auth_denial")
        user = self.scope.get("user")
        if denial or user is None or not user.is_authenticated:
            # Accept, then close: a close before the handshake cannot carry a close code.
            await self.accept()
            await self.close(code=denial or CLOSE_UNAUTHENTICATED)
            return
        # Join before the handshake completes: once a client sees the socket open, no event
        # of a job it posts afterwards can be missed.
        self.group = user_group(user.pk)
        if not await self._join():
            self.group = None
            await self.accept()
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        await self.accept()
        expiry = getattr(self.channel_layer, "group_expiry", None)  # a layer without one never drops
        if expiry:
            self.renewal = asyncio.create_task(self._renew_membership(expiry / RENEWALS_PER_EXPIRY))

    async def _join(self) -> bool:
        """Join the user's group. The first command after the channel layer's Redis came
        back can fail on a stale pooled connection, so try a few times."""
        for attempt in range(JOIN_ATTEMPTS):
            try:
                await self.channel_layer.group_add(self.group, self.channel_name)
                return True
            except Exception:
                logger.warning("Socket could not join %s (attempt %s)", self.group, attempt + 1, exc_info=True)
        return False

    async def _renew_membership(self, period: float) -> None:
        """Join the group again at least every `period` seconds until the socket closes: one
        ZADD and one EXPIRE on Redis per socket and period, no database work. A socket that
        cannot renew is closed with 4503 rather than left to go deaf when its membership lapses."""
        while not self.closing:
            # At random in the second half of the period: sockets that opened together (all of
            # a restarted server's) drift apart instead of renewing in one burst.
            await asyncio.sleep(period * random.uniform(0.5, 1))
            if not await self._join():
                await self._close(CLOSE_TRY_AGAIN_LATER)
                return

    async def disconnect(self, code):
        if self.renewal is not None:
            self.renewal.cancel()
            await asyncio.wait([self.renewal])  # ended before the discard: none can follow it
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """The one message a client may send: `{"action": "resume", "uuid": ..., "after": i}`,
        answered with what it missed of that job (see docs/api.md)."""
        request = _resume_request(text_data)
        if not await self._credentials_hold():
            return
        if request is None:
            await self._send_event(_error("expected {\"action\": \"resume\", \"uuid\": ..., \"after\": <index>}"))
            return
        job_id, after = request
        try:
            job = await database_sync_to_async(bulk_job_of_user)(user_id=self.scope["user"].pk, job_id=job_id)
        except DatabaseError:
            await self._close(CLOSE_TRY_AGAIN_LATER)
            return
        if job is None:
            await self._send_event(_error("no job of yours has this uuid", uuid=job_id))
            return
        await self._send_texts([frame(event) for event in job_catch_up(job, after=after)])

    async def _credentials_hold(self) -> bool:
        """Checked before anything is sent (a query or two per channel-layer message, which
        carries up to a chunk's events): a revoked token or an ended session gets nothing
        more. With the database away nothing can be checked: the client is to come back."""
        if self.closing:
            return False  # messages queued before the close get nothing either
        try:
            if await credentials_hold(self.scope):
                return True
        except DatabaseError:
            logger.warning("Socket credentials not checked: the database is unavailable")
            await self._close(CLOSE_TRY_AGAIN_LATER)
            return False
        await self._close(CLOSE_UNAUTHENTICATED)
        return False

    async def _close(self, code: int) -> None:
        self.closing = True
        await self.close(code=code)

    async def _send_event(self, event: dict) -> None:
        await self.send(text_data=frame(event))

    async def bulk_events(self, message):
        if not await self._credentials_hold():
            return
        if "frames" not in message:  # sent by a worker of the previous version, mid-upgrade
            message = {"frames": [frame(event) for event in message.get("events", [])]}
        await self._send_texts(message["frames"])

    async def _send_texts(self, texts: list[str]) -> None:
        """One frame per text, in order: in one message to our server, else one by one."""
        if SEND_TEXTS in self.scope.get("extensions", {}):
            await self.base_send({"type": SEND_TEXTS, "texts": texts})
            return
        for text in texts:
            await self.send(text_data=text)


def _resume_request(text: str | None) -> tuple[str, int] | None:
    try:
        message = json.loads(text or "")
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        return None
    if not isinstance(message, dict) or message.get("action") != "resume" or not isinstance(message.get("uuid"), str):
        return None
    after = message.get("after", -1)
    if type(after) is not int:
        return None
    return message["uuid"], after


def _error(message: str, **data) -> dict:
    return {"event": "error", "data": {"message": message, **data}}
