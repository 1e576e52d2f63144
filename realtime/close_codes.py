"""The close codes of the /ws/ socket (docs/api.md)."""

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
# The channel layer or the database is out of reach: come back later. Like 4401 and 4403,
# an HTTP status in the range left to applications (the server may send no 1013).
CLOSE_TRY_AGAIN_LATER = 4503
