"""The frames a job's `running` events are sent as are exactly the encoded events."""

import json
import uuid

from realtime.events import frame, running, running_frames


def test_running_frames_are_the_encoded_running_events():
    job_id = str(uuid.uuid4())

    frames = running_frames(job_id=job_id, start=998, stop=1003, total=10_000)

    assert frames == [frame(running(job_id=job_id, index=i, total=10_000)) for i in range(998, 1003)]
    assert json.loads(frames[0]) == {"event": "contact_bulk_create_running", "data": {"uuid": job_id, "i": 998, "total": 10_000}}
