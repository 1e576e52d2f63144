"""The ASGI extensions our server (contacts_project.server) offers in scope["extensions"]."""

# {"type": SEND_TEXTS, "texts": [...]}: each text one WebSocket text frame, in order, all
# in one write to the socket.
SEND_TEXTS = "websocket.send_texts"
