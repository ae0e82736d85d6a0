"""Every DRF permission class of the project (SPEC §4), in one module.

Scope checks: an endpoint needing a scope the credential lacks answers 403 naming it. Who a credential is
(developer, device, operator's metrics scraper) is decided by ``accounts.authentication``; which object a
developer may touch by ``apps.policies`` (another developer's app is a 404, not a 403).
"""

from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission

from mosis.core.errors import ApplicationError, ErrorCode

from .authentication import METRICS_TOKEN_AUTH
from .constants import ALL_SCOPES, Scope
from .models import ApiKey, Device


def credential_scopes(request) -> frozenset[str]:
    """A developer's JWT (or browser session) holds every scope; an API key what it was given; a device none."""
    auth = request.auth
    if isinstance(auth, ApiKey):
        return frozenset(auth.scopes)
    if isinstance(auth, Device):
        return frozenset()
    if request.user and request.user.is_authenticated:
        return ALL_SCOPES
    return frozenset()


def require_scope(request, scope: str) -> None:
    if scope not in credential_scopes(request):
        raise ApplicationError(
            ErrorCode.FORBIDDEN, f"This credential lacks the '{scope}' scope.", {"required_scope": [scope]}
        )


class HasScope(BasePermission):
    """Reads ``view.required_scopes``: ``{action_or_method: scope}`` (``"*"`` for the default)."""

    def has_permission(self, request, view) -> bool:
        required = getattr(view, "required_scopes", {}) or {}
        action = getattr(view, "action", None)
        scope = required.get(action) or required.get(request.method) or required.get("*")
        if scope:
            require_scope(request, scope)
        return True


class IsDevice(BasePermission):
    """The request carries a device token."""

    message = "A device token (md_...) is required."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, Device)


class IsDeveloper(BasePermission):
    """A developer's credential (JWT, API key or browser session).

    A device token identifies a device, not a developer: it answers 401 (not 403) on developer endpoints, so a
    client knows it must present another credential rather than ask for more rights.
    """

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, Device):
            raise NotAuthenticated("A device token cannot be used here; use a developer's JWT or API key.")
        return bool(request.user and request.user.is_authenticated)


class CanSubmitTelemetry(BasePermission):
    """A device token, or a developer credential holding ``telemetry:write`` (403 naming it otherwise)."""

    def has_permission(self, request, view) -> bool:
        if isinstance(request.auth, Device):
            return True
        if request.user and request.user.is_authenticated:
            require_scope(request, Scope.TELEMETRY_WRITE)
            return True
        return False


class IsStaffOrMetricsToken(BasePermission):
    """Operators' reads: the ``METRICS_TOKEN`` (``MetricsTokenAuthentication``) or a staff member's
    credential; anonymous is 401, a developer who is not staff 403."""

    def has_permission(self, request, view) -> bool:
        if request.auth == METRICS_TOKEN_AUTH:
            return True
        user = request.user
        if not (user and user.is_authenticated):
            raise NotAuthenticated()
        if not user.is_staff:
            raise PermissionDenied("Staff or the metrics token only.")
        return True
