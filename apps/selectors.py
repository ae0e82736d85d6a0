"""App reads: the querysets the API, the admin and the portal share (queries designed here, STYLE §6)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from .models import ActivityEvent, App
from .policies import owned_apps


def app_list(*, user, status: str | None = None) -> QuerySet[App]:
    """``user``'s apps, newest first, with their category loaded (``versions.selectors.apps_with_latest_version``
    adds each one's latest published version)."""
    qs = owned_apps(user).select_related("category")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def event_list(
    *,
    user,
    type: str | None = None,
    app_id=None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[ActivityEvent]:
    """The activity feed (seed 003): events of ``user``'s own apps (staff: every event), newest first.

    ``since`` is inclusive, ``until`` exclusive.
    """
    qs = ActivityEvent.objects.select_related("app", "version", "actor")
    if not (user.is_authenticated and user.is_staff):
        qs = qs.filter(app__owner=user)
    filters = Q()
    if type:
        filters &= Q(type=type)
    if app_id:
        filters &= Q(app_id=app_id)
    if since:
        filters &= Q(created_at__gte=since)
    if until:
        filters &= Q(created_at__lt=until)
    return qs.filter(filters).order_by("-created_at", "-id")
