"""The ASGI server: daphne, handing request bodies to Django in 1 MiB pieces.

daphne's default of 8 KiB makes a 6 MB bulk body 750 messages through the event loop
and into Django; at 1 MiB it is 6. Run as `python -m contacts_project.server` with
daphne's arguments.
"""

import sys

from daphne.cli import CommandLineInterface
from daphne.server import Server

REQUEST_BUFFER_SIZE = 1024 * 1024


class _Server(Server):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("request_buffer_size", REQUEST_BUFFER_SIZE)
        super().__init__(*args, **kwargs)


class _CommandLine(CommandLineInterface):
    server_class = _Server


if __name__ == "__main__":
    _CommandLine().run(sys.argv[1:])
