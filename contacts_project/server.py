"""The ASGI server: daphne, handing request bodies to Django in 1 MiB pieces, keeping
bodies of up to 16 MiB in memory, taking request lines and headers of up to 64 KiB, and
sending many WebSocket frames in one message (the SEND_TEXTS extension).

daphne's default of 8 KiB makes a 6 MB bulk body 750 messages through the event loop
and into Django; at 1 MiB it is 6. Run as `python -m contacts_project.server` with
daphne's arguments.
"""

import sys
from io import BytesIO

import autobahn.util
import daphne.server
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest
from daphne.server import Server
from daphne.ws_protocol import WebSocketFactory, WebSocketProtocol
from twisted.web.http import HTTPChannel

from contacts_project.asgi_extensions import SEND_TEXTS

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
# As Django's FILE_UPLOAD_MAX_MEMORY_SIZE (settings): Django keeps such a body in memory too.
REQUEST_BODY_IN_MEMORY = 16 * 1024 * 1024


class _WebRequest(WebRequest):
    """Twisted writes a body of 100 kB or more to a temporary file as it arrives, which
    daphne reads back for Django: for a 6 MB bulk body ~4 ms of writing it out and reading
    it in again, on the way to its 202, against ~0.7 ms in memory."""

    def gotLength(self, length):
        if length is not None and length <= REQUEST_BODY_IN_MEMORY:
            self.content = BytesIO()
        else:  # larger, or of unknown length (chunked): a temporary file, as Twisted does
            super().gotLength(length)


class _HTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        protocol.requestFactory = _WebRequest
        return protocol


daphne.server.HTTPFactory = _HTTPFactory


class _Server(Server):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("request_buffer_size", REQUEST_BUFFER_SIZE)
        super().__init__(*args, **kwargs)

    def create_application(self, protocol, scope):
        if scope["type"] == "websocket":
            scope = {**scope, "extensions": {**scope.get("extensions", {}), SEND_TEXTS: {}}}
        return super().create_application(protocol, scope)


class _WebSocketProtocol(WebSocketProtocol):
    """Takes SEND_TEXTS: a bulk job's 10,002 frames cross the consumer, daphne and the event
    loop as a few messages (one per chunk), and skip autobahn's per-frame bookkeeping (~10 us a frame, its
    debug-log arguments included, which it builds whether it logs them or not)."""

    def handle_reply(self, message):
        if message["type"] != SEND_TEXTS:
            return super().handle_reply(message)
        if self.state == self.STATE_CONNECTING:
            raise ValueError("Socket has not been accepted, so cannot send over it")
        if self.state != self.STATE_OPEN or not message["texts"]:
            return  # closing: the frames could not reach the client any more
        # Uncompressed even if permessage-deflate were negotiated: RFC 7692 allows it.
        self.sendData(text_frames(message["texts"]))


def text_frames(texts: list[str]) -> bytes:
    """The WebSocket frames (RFC 6455 5.2: final, text, unmasked as a server's are) of the texts."""
    parts = []
    for text in texts:
        payload = text.encode()
        size = len(payload)
        if size < 126:
            parts.append(bytes((0x81, size)))
        elif size < 1 << 16:
            parts.append(b"\x81\x7e" + size.to_bytes(2, "big"))
        else:
            parts.append(b"\x81\x7f" + size.to_bytes(8, "big"))
        parts.append(payload)
    return b"".join(parts)


WebSocketFactory.protocol = _WebSocketProtocol


class _CommandLine(CommandLineInterface):
    server_class = _Server


if __name__ == "__main__":
    _CommandLine().run(sys.argv[1:])
