"""Serve the whole service in the foreground: the ASGI server and the background workers.

With the embedded default (no REDIS_URL) the server process runs the background work
itself; otherwise `--workers` database task workers run beside it. SIGINT or SIGTERM
stops all of them; if one of them dies, the others are stopped too.
"""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the ASGI server (daphne) and the background workers until SIGINT/SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="worker processes (Redis only)")

    def handle(self, *args, host, port, workers, **options):
        commands = [
            [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "contacts_project.asgi:application"]
        ]
        if not settings.EMBEDDED_WORKER:
            worker = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay",
                      "--interval", str(settings.WORKER_POLL_INTERVAL)]
            commands += [worker] * workers
        children = [subprocess.Popen(command) for command in commands]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Serving on http://{host}:{port} ({len(children) - 1} separate workers)")
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.2)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        if not stopping:
            sys.exit(1)
