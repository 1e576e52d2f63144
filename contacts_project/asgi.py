"""ASGI entry point: HTTP through Django, /ws/ through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contacts_project.settings.base")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from contacts_project.heap import heap_freeze  # noqa: E402
from realtime.auth import socket_auth_stack  # noqa: E402
from realtime.embedded import EmbeddedWorkerStarter  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": socket_auth_stack(URLRouter(websocket_urlpatterns)),
    }
)
if settings.EMBEDDED_WORKER:
    application = EmbeddedWorkerStarter(application)
heap_freeze()
