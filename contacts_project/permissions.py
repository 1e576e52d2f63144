from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from .authentication import BearerTokenAuthentication

READ_SCOPE = "contacts:read"
WRITE_SCOPE = "contacts:write"


class HasContactsScope(BasePermission):
    """Authenticated users of an account; a token needs contacts:read to read and
    contacts:write to write. Session users (admin operators, same-origin pages) need no scope."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if isinstance(request.successful_authenticator, BearerTokenAuthentication):
            scope = READ_SCOPE if request.method in SAFE_METHODS else WRITE_SCOPE
            if not request.auth.allow_scopes([scope]):
                raise PermissionDenied(f"This token lacks the {scope} scope.")
        if user.account_id is None:
            raise PermissionDenied("Your user belongs to no account.")
        return True
