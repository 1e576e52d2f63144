"""The frames a job's `running` events are sent as are exactly the encoded events, and a
message of the previous shape still reaches the socket."""

import json
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from realtime.events import MESSAGE_TYPE, ending, frame, running, running_frames, user_group
from tests import factories
from tests.live import job_events


def test_running_frames_are_the_encoded_running_events():
    job_id = str(uuid.uuid4())

    frames = running_frames(job_id=job_id, start=998, stop=1003, total=10_000)

    assert frames == [frame(running(job_id=job_id, index=i, total=10_000)) for i in range(998, 1003)]
    assert json.loads(frames[0]) == {"event": "contact_bulk_create_running", "data": {"uuid": job_id, "i": 998, "total": 10_000}}


@pytest.mark.django_db(transaction=True)
def test_a_message_in_the_previous_shape_still_reaches_the_socket(live_service):
    """Mid-upgrade, a worker of the previous release sends events as dicts, not frame texts."""
    user = factories.user_make(factories.account_make())
    event = ending(job_id="from-an-older-worker", created=1, updated=0, failed=0)

    with live_service.socket(token=factories.token_make(user)) as ws:
        async_to_sync(get_channel_layer().group_send)(user_group(user.pk), {"type": MESSAGE_TYPE, "events": [event]})
        assert job_events(ws, "from-an-older-worker", timeout=10) == [event]
