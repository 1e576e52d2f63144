"""The bulk route's rate limit holds for requests of one user arriving at once at two
server processes (one counter in Redis, incremented atomically)."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests import factories
from tests.conftest import service_env
from tests.live import ServiceProcesses

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 5
REQUESTS = 24


@pytest.fixture
def two_servers(tmp_path):
    # A limit of its own; a queue of its own, which no worker serves: the jobs need not run.
    started = ServiceProcesses(
        tmp_path, service_env(BULK_RATE_LIMIT=f"{LIMIT}/day", BULK_QUEUE=f"test-{uuid.uuid4().hex[:12]}")
    )
    started.server("server-1")
    started.server("server-2")
    yield started.services
    started.stop()


def test_requests_at_once_at_two_servers_pass_the_limit_exactly_that_many_times(two_servers):
    token = factories.token_make(factories.user_make(factories.account_make()))
    body = {"list": {"name": "L"}, "contacts": [{"email": "a@example.test"}]}

    def post(n: int) -> int:
        with two_servers[n % 2].http(token) as http:
            return http.post("/api/v1/contacts/bulk", json=body).status_code

    first_day = _utc_day()
    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        statuses = list(pool.map(post, range(REQUESTS)))
    days = _utc_day() - first_day + 1  # the limit counts per UTC day: a run over midnight spans two

    assert sorted(statuses) == [202] * (LIMIT * days) + [429] * (REQUESTS - LIMIT * days)


def _utc_day() -> int:
    return int(time.time() // 86400)
