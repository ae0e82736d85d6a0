"""App reads: the querysets the API, the admin and the portal share (queries designed here, STYLE §6)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from .models import ActivityEvent, App
from .policies import owned_apps

LATEST_VERSION_FIELDS = (
    "id",
    "app_id",
    "version_name",
    "version_code",
    "status",
    "package_size",
    "permissions",
    "min_mosis_version",
    "max_mosis_version",
    "release_notes",
    "published_at",
    "created_at",
)


def published_versions_prefetch() -> Prefetch:
    """Published, non-yanked versions newest first, into ``app.published_versions`` (one query per page).

    ``app_latest_version`` reads the first of them, so a list of apps costs one extra query in total.
    """
    from versions.constants import VersionStatus
    from versions.models import AppVersion

    return Prefetch(
        "versions",
        queryset=AppVersion.objects.filter(status=VersionStatus.PUBLISHED, yanked_at__isnull=True)
        .only(*LATEST_VERSION_FIELDS)
        .order_by("-version_code"),
        to_attr="published_versions",
    )


def app_latest_version(*, app: App):
    """The newest published, non-yanked version of ``app`` (None if there is none)."""
    versions = getattr(app, "published_versions", None)
    if versions is None:
        from versions.constants import VersionStatus

        return (
            app.versions.filter(status=VersionStatus.PUBLISHED, yanked_at__isnull=True)
            .order_by("-version_code")
            .first()
        )
    return versions[0] if versions else None


def app_list(*, user, status: str | None = None) -> QuerySet[App]:
    """``user``'s apps, newest first, with category and latest published version loaded."""
    qs = owned_apps(user).select_related("category").prefetch_related(published_versions_prefetch())
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def app_with_details(*, app: App) -> App:
    """Re-read one app with what its API representation needs."""
    return (
        App.objects.select_related("category").prefetch_related(published_versions_prefetch()).get(pk=app.pk)
    )


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
