"""Serve the whole service in the foreground: the ASGI server and the background workers.

With the embedded default (no REDIS_URL) the server process runs the background work
itself; otherwise `--workers` database task workers run beside it, and one that dies is
started again. SIGINT or SIGTERM
stops all of them; if the server dies, the workers are stopped too.
"""

import logging
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Run the ASGI server (daphne) and the background workers until SIGINT/SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="worker processes (with REDIS_URL)")

    def handle(self, *args, host, port, workers, **options):
        server_command = [
            sys.executable, "-m", "contacts_project.server", "-b", host, "-p", str(port), "contacts_project.asgi:application"
        ]
        worker_command = [sys.executable, "manage.py", "bulk_worker"]
        server = subprocess.Popen(server_command)
        worker_count = 0 if settings.EMBEDDED_WORKER else workers
        worker_list = [subprocess.Popen(worker_command) for _ in range(worker_count)]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Serving on http://{host}:{port} ({worker_count} separate workers)")
        while not stopping and server.poll() is None:
            for i, worker in enumerate(worker_list):
                if worker.poll() is not None:
                    logger.error("Worker %s exited with %s; starting another", worker.pid, worker.returncode)
                    worker_list[i] = subprocess.Popen(worker_command)
            time.sleep(0.2)
        for child in [server, *worker_list]:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in [server, *worker_list]:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        if not stopping:
            sys.exit(1)
