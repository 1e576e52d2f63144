"""The frames a job's `running` events are sent as are exactly the encoded events, the
server writes a message's frames as a client reads them, and a message of the previous
shape still reaches the socket."""

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


@pytest.mark.django_db(transaction=True)
def test_frames_of_every_length_class_reach_the_socket_as_sent(live_service):
    """Our server writes a message's frames itself (contacts_project.server.text_frames):
    payload lengths under 126, under 65,536 and above take the three header forms."""
    user = factories.user_make(factories.account_make())
    job_id = str(uuid.uuid4())

    def event_of(size: int) -> dict:  # an event whose frame is `size` bytes
        event = {"event": "contact_bulk_create_running", "data": {"uuid": job_id, "note": ""}}
        event["data"]["note"] = "x" * (size - len(frame(event)))
        return event

    events = [event_of(size) for size in (125, 126, 127, 65_535, 65_536, 200_000)]
    events.append(ending(job_id=job_id, created=len(events), updated=0, failed=0))

    with live_service.socket(token=factories.token_make(user)) as ws:
        async_to_sync(get_channel_layer().group_send)(
            user_group(user.pk), {"type": MESSAGE_TYPE, "frames": [frame(e) for e in events]}
        )
        assert job_events(ws, job_id, timeout=10) == events
