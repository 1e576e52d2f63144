"""The production shape and its faults, each really done: several servers and workers,
signals to them, Redis stopped mid-job, the database out of reach."""

import json
import signal
import subprocess
import uuid

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from contacts.models import BulkJob, Contact
from realtime.events import ENDING, RUNNING, STARTING
from tests import factories
from tests.conftest import database_address, database_url, service_env
from tests.live import ServiceProcesses, TcpRelay, free_port, job_events, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SMALL_CHUNKS = {"BULK_CHUNK_SIZE": "50", "BULK_JOB_STALE_SECONDS": "3", "BULK_RECOVERY_INTERVAL": "0.3"}


def _own_queue() -> dict:
    """A task queue of the test's own: the session's live service must not take its jobs."""
    return {"BULK_QUEUE": f"test-{uuid.uuid4().hex[:12]}"}


def _contacts(n: int, prefix: str) -> list[dict]:
    return [{"email": f"{prefix}{i}@example.test"} for i in range(n)]


def _user_token():
    account = factories.account_make()
    user = factories.user_make(account)
    return account, factories.token_make(user)


@pytest.fixture
def processes(tmp_path):
    started = ServiceProcesses(tmp_path, service_env(**SMALL_CHUNKS, **_own_queue()))
    yield started
    started.stop()


def test_a_socket_on_one_server_receives_a_job_posted_to_another_and_run_by_any_worker(processes):
    server_a, server_b = processes.server("server-a"), processes.server("server-b")
    processes.worker("worker-1")
    processes.worker("worker-2")
    account, token = _user_token()

    with server_a.socket(token=token) as ws, server_b.http(token) as http:
        response = http.post("/api/v1/contacts/bulk", json={"list": {"name": "x"}, "contacts": _contacts(800, "x")})
        assert response.status_code == 202
        events = job_events(ws, response.json()["uuid"])

    assert events[0]["event"] == STARTING
    assert [e["data"]["i"] for e in events if e["event"] == RUNNING] == list(range(800))
    assert events[-1]["data"]["created"] == 800
    assert Contact.objects.filter(account=account).count() == 800


def test_sigterm_to_a_worker_mid_job_lets_it_finish_the_job_first(processes):
    server = processes.server("server")
    worker = processes.worker("worker")
    account, token = _user_token()

    with server.socket(token=token) as ws, server.http(token) as http:
        job_id = http.post("/api/v1/contacts/bulk", json={"list": {"name": "t"}, "contacts": _contacts(2000, "t")}).json()["uuid"]
        wait_for(lambda: BulkJob.objects.get(pk=job_id).processed > 0, "the job to start")
        worker.send_signal(signal.SIGTERM)
        events = job_events(ws, job_id)
        assert worker.wait(timeout=60) == 0

    assert events[-1] == {"event": ENDING, "data": {"uuid": job_id, "created": 2000, "updated": 0}}
    assert Contact.objects.filter(account=account).count() == 2000


def test_sigterm_to_the_server_mid_job_does_not_stop_the_job(processes):
    server = processes.server("server")
    processes.worker("worker")
    account, token = _user_token()

    with server.http(token) as http:
        job_id = http.post("/api/v1/contacts/bulk", json={"list": {"name": "s"}, "contacts": _contacts(2000, "s")}).json()["uuid"]
    wait_for(lambda: BulkJob.objects.get(pk=job_id).processed > 0, "the job to start")
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=30)

    wait_for(lambda: BulkJob.objects.get(pk=job_id).status == "done", "the job to finish")
    job = BulkJob.objects.get(pk=job_id)
    assert (job.processed, job.created) == (2000, 2000)
    assert Contact.objects.filter(account=account).count() == 2000


class RedisServer:
    """A Redis of the test's own, so that stopping it disturbs nothing else."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.tmp_path = tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.tmp_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, "redis to answer", timeout=20)

    def _answers(self) -> bool:
        return subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    redis = RedisServer(tmp_path)
    redis.start()
    yield redis
    redis.stop()


def test_redis_stopped_mid_job_loses_nothing_and_events_flow_again_once_it_is_back(tmp_path, own_redis):
    processes = ServiceProcesses(tmp_path, service_env(REDIS_URL=own_redis.url, **SMALL_CHUNKS, **_own_queue()))
    try:
        server = processes.server("server")
        processes.worker("worker")
        account, token = _user_token()
        with server.socket(token=token) as ws, server.http(token) as http:
            job_id = http.post("/api/v1/contacts/bulk", json={"list": {"name": "r"}, "contacts": _contacts(3000, "r")}).json()["uuid"]
            wait_for(lambda: BulkJob.objects.get(pk=job_id).processed > 0, "the job to start")
            own_redis.stop()
            # The HTTP API keeps answering, and the job completes in the database.
            wait_for(lambda: http.get(f"/api/v1/contacts/bulk/{job_id}").json()["status"] == "done", "the job to finish")
            status = http.get(f"/api/v1/contacts/bulk/{job_id}").json()
            during = http.post("/api/v1/contacts/bulk", json={"list": {"name": "r"}, "contacts": _contacts(5, "during")})
        assert (status["processed"], status["created"], status["updated"]) == (3000, 3000, 0)
        assert during.status_code == 202  # accepted and processed, its events lost
        wait_for(lambda: BulkJob.objects.get(pk=during.json()["uuid"]).status == "done", "the job posted during the outage")
        assert Contact.objects.filter(account=account).count() == 3005

        own_redis.start()
        with server.socket(token=token) as ws, server.http(token) as http:
            after = http.post("/api/v1/contacts/bulk", json={"list": {"name": "r"}, "contacts": _contacts(5, "after")}).json()["uuid"]
            events = job_events(ws, after)
        assert [e["event"] for e in events] == [STARTING, *[RUNNING] * 5, ENDING]
    finally:
        processes.stop()


def test_database_out_of_reach_answers_503_json_and_writes_nothing(processes):
    account, token = _user_token()
    unreachable = service_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/nowhere")
    server = processes.server("server-without-database", env=unreachable)

    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        bulk = http.post(
            "/api/v1/contacts/bulk", json={"list": {"name": "x"}, "contacts": _contacts(3, "x")},
            headers={"Authorization": f"Bearer {token}"},
        )
        token_request = http.post("/o/token/", data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"})

    for response in (bulk, token_request):
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/json"
        assert response.headers["retry-after"] == "5"
        assert response.json() == {"errors": [{"message": "The database is unavailable; nothing was written. Try again shortly."}]}
    assert not Contact.objects.filter(account=account).exists() and not BulkJob.objects.exists()


@pytest.fixture
def relay():
    """A relay in front of the test database, to cut like a network outage."""
    started = TcpRelay(database_address())
    yield started
    started.close()


def _server_behind(processes, relay, **env):
    url = database_url(("127.0.0.1", relay.port))
    return processes.server("server-behind-relay", env=service_env(**{"DATABASE_URL": url, "DB_POOL_TIMEOUT": "2", **env}))


OUTAGE_REQUESTS = 20  # far more than an outage below needs


def test_once_the_database_is_back_after_a_long_outage_the_first_request_is_served(processes, relay):
    _, token = _user_token()
    server = _server_behind(processes, relay)
    with server.http(token) as http:
        assert http.get("/api/v1/contacts").status_code == 200
        relay.cut()
        # Long enough for retries backing off from one second to wait longer than a
        # request does (1 + 2 + 4 s before their fourth), had the pool kept at them.
        for _ in range(OUTAGE_REQUESTS):
            if relay.refused >= 8:
                break
            assert http.get("/api/v1/contacts").status_code == 503
        assert relay.refused >= 8
        relay.restore()
        assert http.get("/api/v1/contacts").status_code == 200


def test_connections_opened_before_an_outage_cost_no_request_after_it(processes, relay):
    _, token = _user_token()
    server = _server_behind(processes, relay, DB_POOL_MIN_SIZE="4")
    with server.http(token) as http:
        assert http.get("/api/v1/contacts").status_code == 200
        wait_for(lambda: relay.relayed >= 4, "the pool to open its four connections")
        relay.cut()
        relay.restore()  # no request in between: all four are broken, none known to be
        assert http.get("/api/v1/contacts").status_code == 200


def test_a_connection_attempt_to_a_silent_database_host_gives_up_in_time(processes, relay):
    _, token = _user_token()
    server = _server_behind(processes, relay, DB_POOL_TIMEOUT="4")
    with server.http(token) as http:
        assert http.get("/api/v1/contacts").status_code == 200
        relay.cut(hold=True)  # connection attempts get no answer, ever
        assert http.get("/api/v1/contacts").status_code == 503
        assert relay.refused >= 1  # an attempt hangs
        relay.restore()
        assert http.get("/api/v1/contacts").status_code == 200


def test_the_pool_keeps_trying_through_an_outage_and_reconnects_by_itself(processes, relay):
    _, token = _user_token()
    server = _server_behind(processes, relay)
    with server.http(token) as http:
        assert http.get("/api/v1/contacts").status_code == 200
        relay.cut()
        assert http.get("/api/v1/contacts").status_code == 503  # finds the connection lost
        wait_for(lambda: relay.refused >= 6, "the pool to try again and again, with no request")
        relay.restore()
        wait_for(lambda: relay.relayed >= 1, "the pool to reconnect, with no request")


def test_a_worker_outlives_a_database_outage_and_runs_the_next_job(processes, relay):
    server = processes.server("server")
    behind_relay = {**processes.env, "DATABASE_URL": database_url(("127.0.0.1", relay.port)), "DB_POOL_TIMEOUT": "1"}
    worker = processes.start("worker-behind-relay", "manage.py", "bulk_worker", "--interval", "0.1", env=behind_relay)
    account, token = _user_token()
    with server.http(token) as http:
        before = http.post("/api/v1/contacts/bulk", json={"list": {"name": "o"}, "contacts": _contacts(3, "before")})
        wait_for(lambda: BulkJob.objects.get(pk=before.json()["uuid"]).status == "done", "the job before the outage")
        relay.cut()
        wait_for(lambda: relay.refused >= 6 or worker.poll() is not None, "the worker to try and fail, again and again")
        relay.restore()
        after = http.post("/api/v1/contacts/bulk", json={"list": {"name": "o"}, "contacts": _contacts(3, "after")})
        wait_for(lambda: BulkJob.objects.get(pk=after.json()["uuid"]).status == "done" or worker.poll() is not None,
                 "the job after the outage")

    assert worker.poll() is None
    assert Contact.objects.filter(account=account).count() == 6


def test_a_socket_whose_credentials_cannot_be_checked_is_told_to_come_back(processes, relay):
    _, token = _user_token()
    server = _server_behind(processes, relay)
    with server.socket(token=token) as ws:
        relay.cut()
        ws.send(json.dumps({"action": "resume", "uuid": str(uuid.uuid4())}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)

    assert closed.value.rcvd.code == 4503


def test_a_socket_opened_with_the_database_away_is_told_to_come_back(processes, relay):
    _, token = _user_token()
    server = _server_behind(processes, relay)
    relay.cut()
    with server.socket(token=token) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=30)

    assert closed.value.rcvd.code == 4503
