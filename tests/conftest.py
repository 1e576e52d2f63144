"""Fixtures: a real PostgreSQL test database, the Redis channel layer, and a live service
(daphne + separate workers started by `manage.py serve`) for end-to-end tests."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests import factories
from tests.live import LiveService, free_port

ROOT = Path(__file__).resolve().parent.parent
LIVE_QUEUE = f"live-{uuid.uuid4().hex[:8]}"


def pytest_configure(config):
    engine = settings.DATABASES["default"]["ENGINE"]
    if engine != "django.db.backends.postgresql" or not settings.REDIS_URL:
        raise pytest.UsageError(
            "The tests run on PostgreSQL and Redis: set DATABASE_URL=postgres://... and "
            "REDIS_URL=redis://... (make test sets the local ones)."
        )


@pytest.fixture(scope="session", autouse=True)
def _redis_isolation():
    """Each test session talks to its own keys in Redis."""
    prefix = f"contacts-test-{uuid.uuid4().hex[:8]}"
    settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = prefix
    os.environ["CHANNELS_REDIS_PREFIX"] = prefix
    # Rate-limit counters too: ids repeat from one test run to the next.
    settings.CACHES["default"]["KEY_PREFIX"] = prefix
    os.environ["CACHE_KEY_PREFIX"] = prefix
    yield


def database_address() -> tuple[str, int]:
    db = settings.DATABASES["default"]
    return db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)


def database_url(address: tuple[str, int] | None = None) -> str:
    """The test database's URL, at `address` (a relay in front of it) if given."""
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    auth = f"{user}:{db['PASSWORD']}" if db.get("PASSWORD") else user
    host, port = address or database_address()
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def service_env(**extra: str) -> dict:
    """The environment of a service process on the test database and Redis."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "contacts_project.settings.test",
        "EMBEDDED_WORKER": "false",
        "PYTHONUNBUFFERED": "1",
        # The live processes' own queue: their workers never take a job that an in-process
        # test stored and means to process itself.
        "BULK_QUEUE": LIVE_QUEUE,
        **extra,
    }


@pytest.fixture(scope="session")
def live_service(django_db_setup, django_db_blocker, tmp_path_factory):
    """`manage.py serve` with two separate workers, on the test database and Redis."""
    port = free_port()
    env = service_env()
    log = tmp_path_factory.mktemp("service") / "service.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port), "--workers", "2"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    service = LiveService(f"http://127.0.0.1:{port}", process, log)
    try:
        service.wait_until_up()
        yield service
    finally:
        service.stop()


@pytest.fixture
def account(db):
    return factories.account_make()


@pytest.fixture
def user(account):
    return factories.user_make(account)


@pytest.fixture
def api(user):
    """An in-process API client holding a token with both scopes for `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {factories.token_make(user)}")
    return client
