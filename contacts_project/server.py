"""The ASGI server: daphne, handing request bodies to Django in 1 MiB pieces, and taking
request lines and headers of up to 64 KiB.

daphne's default of 8 KiB makes a 6 MB bulk body 750 messages through the event loop
and into Django; at 1 MiB it is 6. Run as `python -m contacts_project.server` with
daphne's arguments.
"""

import sys

import autobahn.util
from daphne.cli import CommandLineInterface
from daphne.server import Server
from twisted.web.http import HTTPChannel

REQUEST_HEAD_LIMIT = 64 * 1024

# Twisted refuses a request line or headers past 16 KiB with a bare 400. The read
# endpoints' filters, at their documented maximum lengths and percent-encoded, take up to
# ~35 KiB: they must reach Django, which answers in the API's error shape.
HTTPChannel.MAX_LENGTH = HTTPChannel.totalHeadersSize = REQUEST_HEAD_LIMIT

# autobahn builds the arguments of a debug log line for every WebSocket frame it sends,
# logged or not, and colours them with click when click can be imported (the test tools
# bring it in; a production install has none). Plain text for all: a 10,000-contact job
# sends 10,002 frames, and the colouring cost the server ~0.2 s of CPU per job.
autobahn.util._HAS_CLICK = False

REQUEST_BUFFER_SIZE = 1024 * 1024


class _Server(Server):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("request_buffer_size", REQUEST_BUFFER_SIZE)
        super().__init__(*args, **kwargs)


class _CommandLine(CommandLineInterface):
    server_class = _Server


if __name__ == "__main__":
    _CommandLine().run(sys.argv[1:])
