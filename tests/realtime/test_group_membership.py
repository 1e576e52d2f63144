"""A socket stays in its user's group for as long as it is open: the channel layer drops a
membership `group_expiry` seconds after the channel last joined, so the socket joins again
well within that, and stops once it is closed. Proven with a tiny expiry, on a live server
and worker over Redis, and in process with the in-memory layer of the embedded default."""

import asyncio
import json
import time
import uuid

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections

from realtime.auth import check_threads, socket_auth_stack
from realtime.events import ENDING, MESSAGE_TYPE, RUNNING, STARTING, ending, frame, user_group
from realtime.routing import websocket_urlpatterns
from tests import factories
from tests.conftest import service_env
from tests.live import ServiceProcesses, job_events, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

GROUP_EXPIRY = 2  # seconds; the sockets join again every half second at most
RENEWAL_TIMEOUT = 10 * GROUP_EXPIRY  # seconds an awaited renewal may take before the test fails


@pytest.fixture
def processes(tmp_path):
    """A server and a worker whose channel layer drops memberships after GROUP_EXPIRY."""
    env = service_env(CHANNEL_GROUP_EXPIRY=str(GROUP_EXPIRY), BULK_QUEUE=f"test-{uuid.uuid4().hex[:12]}")
    started = ServiceProcesses(tmp_path, env)
    yield started
    started.stop()


@pytest.fixture
def group_members():
    """The channels of a user's group and the time each last joined, as channels-redis
    keeps them: a sorted set scored with the join time, under `<prefix>:group:<group>`."""
    client = redis.Redis.from_url(settings.REDIS_URL, decode_responses=True)
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    yield lambda user: dict(client.zrange(f"{prefix}:group:{user_group(user.pk)}", 0, -1, withscores=True))
    client.close()


@pytest.fixture
def credential_checks_closed():
    """In process, the socket checks its credentials in a thread of realtime.auth's own,
    which keeps the connection it opened: closed after the test (the test's one check ran
    in one thread), or the test database cannot be dropped at the session's end."""
    yield
    check_threads.submit(connections.close_all).result()


def _joined_again_after_expiry(group_members, user, channel: str, joined: float):
    """Whether `channel` joined again at a time when its join at `joined` had expired."""
    return group_members(user).get(channel, 0) > joined + GROUP_EXPIRY + 1


def test_a_socket_open_longer_than_the_group_expiry_still_receives_its_users_job_events(processes, group_members):
    server = processes.server("server")
    processes.worker("worker")
    user = factories.user_make(factories.account_make())
    token = factories.token_make(user)

    with server.socket(token=token) as ws, server.http(token) as http:
        [(channel, joined)] = group_members(user).items()
        wait_for(
            lambda: _joined_again_after_expiry(group_members, user, channel, joined),
            "the socket to join its group again", timeout=RENEWAL_TIMEOUT,
        )
        response = http.post("/api/v1/contacts/bulk", json={"list": {"name": "l"}, "contacts": [{"email": "a@example.test"}]})
        assert response.status_code == 202, response.text
        events = job_events(ws, response.json()["uuid"])

    assert [event["event"] for event in events] == [STARTING, RUNNING, ENDING]


def test_a_closed_socket_leaves_its_group_and_does_not_join_it_again(processes, group_members):
    server = processes.server("server")
    user = factories.user_make(factories.account_make())
    token = factories.token_make(user)

    with server.socket(token=token) as staying:
        [staying_channel] = group_members(user)
        with server.socket(token=token):
            [closed_channel] = set(group_members(user)) - {staying_channel}
        wait_for(lambda: closed_channel not in group_members(user), "the closed socket to leave its group")
        left = time.time()
        # A renewal the closed socket had left running would come at most a renewal period
        # (a quarter of the expiry) after its last one, before it left: by the time the open
        # socket renews later than that, with a margin, it would have come.
        wait_for(
            lambda: group_members(user).get(staying_channel, 0) > left + GROUP_EXPIRY / 4 + 0.25,
            "the open socket to join its group again", timeout=RENEWAL_TIMEOUT,
        )
        assert list(group_members(user)) == [staying_channel]
        assert staying.ping().wait(timeout=5)  # and the open socket is still open


def test_with_the_in_memory_layer_a_socket_open_longer_than_the_group_expiry_still_receives_events(
    settings, credential_checks_closed
):
    """The embedded default's in-memory layer drops memberships the same way: on its own
    clock, when anything is sent to the group."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"group_expiry": GROUP_EXPIRY}}}
    user = factories.user_make(factories.account_make())
    token = factories.token_make(user)
    event = ending(job_id="after-expiry", created=0, updated=0, failed=0)

    async def open_past_the_expiry_then_receive() -> dict:
        layer = get_channel_layer()
        group = user_group(user.pk)
        ws = WebsocketCommunicator(socket_auth_stack(URLRouter(websocket_urlpatterns)), f"/ws/?access_token={token}")
        connected, _ = await ws.connect()
        assert connected
        try:
            [(channel, joined)] = layer.groups[group].items()
            deadline = time.monotonic() + RENEWAL_TIMEOUT
            while layer.groups.get(group, {}).get(channel, 0) <= joined + GROUP_EXPIRY + 1:
                assert time.monotonic() < deadline, "timed out waiting for the socket to join its group again"
                await asyncio.sleep(0.02)
            await layer.group_send(group, {"type": MESSAGE_TYPE, "frames": [frame(event)]})
            return json.loads(await ws.receive_from(timeout=10))
        finally:
            await ws.disconnect()

    assert async_to_sync(open_past_the_expiry_then_receive)() == event
