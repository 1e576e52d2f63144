"""The close codes of the /ws/ socket (docs/api.md)."""

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TRY_AGAIN_LATER = 1013  # the channel layer is out of reach
