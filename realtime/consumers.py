"""The /ws/ socket: joins its user's group and forwards each event as one text frame."""

import json

from channels.generic.websocket import AsyncWebsocketConsumer

from .events import user_group

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class EventsConsumer(AsyncWebsocketConsumer):
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
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """Clients only listen; anything they send is ignored."""

    async def bulk_events(self, message):
        for event in message["events"]:
            await self.send(text_data=json.dumps(event, separators=(",", ":")))
