"""The embedded default: background work in a thread of the server process.

The in-memory channel layer cannot cross processes, so without Redis the worker runs
beside the sockets and publishes onto the server's event loop.
"""

import asyncio
import logging
import threading

from django.conf import settings
from django.utils.crypto import get_random_string

from contacts.recovery import recovery_start
from contacts.worker import BulkWorker

from .events import bind_server_loop

logger = logging.getLogger(__name__)


def embedded_worker_start(loop: asyncio.AbstractEventLoop) -> BulkWorker:
    """Start a bulk job worker in a daemon thread, publishing onto `loop`."""
    bind_server_loop(loop)
    worker = BulkWorker(
        queue_names=[settings.BULK_QUEUE],
        interval=settings.WORKER_POLL_INTERVAL,
        worker_id=f"embedded-{get_random_string(12)}",
    )
    threading.Thread(target=worker.run, name="embedded-worker", daemon=True).start()
    recovery_start()
    logger.info("Embedded worker started in the server process")
    return worker


class EmbeddedWorkerStarter:
    """ASGI wrapper that starts the embedded worker on the server's loop at the first event."""

    def __init__(self, app):
        self.app = app
        self.worker = None

    async def __call__(self, scope, receive, send):
        if self.worker is None:
            self.worker = embedded_worker_start(asyncio.get_running_loop())
        return await self.app(scope, receive, send)
