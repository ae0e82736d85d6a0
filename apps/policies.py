"""The one authorization policy (SPEC §4): who may do what with apps and versions.

Views, admin actions, commands and the portal all ask here, so adding teams later changes only this file.
A developer sees only their own apps: another developer's app answers 404, never 403.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from mosis.core.errors import ApplicationError, ErrorCode

from .models import App


def owned_apps(user):
    """The apps ``user`` may see and change through the developer API (staff use the admin)."""
    if user is None or not user.is_authenticated:
        return App.objects.none()
    return App.objects.filter(owner=user)


def app_for_owner(*, user, app_id) -> App:
    """The app if ``user`` owns it; 404 otherwise (also for malformed ids)."""
    try:
        return owned_apps(user).select_related("category", "owner").get(pk=app_id)
    except (App.DoesNotExist, ValueError, TypeError, ValidationError):
        raise ApplicationError(ErrorCode.NOT_FOUND, "App not found.")


def can_manage_app(user, app: App) -> bool:
    return bool(user and user.is_authenticated and app.owner_id == user.pk)


def can_review_version(user, version) -> bool:
    """Staff review; nobody decides on a version of an app they own (SPEC §8)."""
    return bool(user and user.is_authenticated and user.is_staff and version.app.owner_id != user.pk)


def can_set_app_status(user) -> bool:
    return bool(user and user.is_authenticated and user.is_staff)


def webhook_for_owner(*, user, webhook_id):
    """The webhook if ``user`` registered it; 404 otherwise (also for malformed ids)."""
    from .models import Webhook

    if user is None or not user.is_authenticated:
        raise ApplicationError(ErrorCode.NOT_FOUND, "Webhook not found.")
    try:
        return Webhook.objects.get(owner=user, pk=webhook_id)
    except (Webhook.DoesNotExist, ValueError, TypeError, ValidationError):
        raise ApplicationError(ErrorCode.NOT_FOUND, "Webhook not found.")
