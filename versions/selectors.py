"""Version reads (querysets designed for their callers: API list, review console, commands)."""

from __future__ import annotations

import json

from django.db.models import OuterRef, QuerySet, Subquery

from .constants import VersionStatus
from .models import AppVersion


def package_filename(*, package_id: str, version_name: str) -> str:
    """The file name a package is downloaded under (``Content-Disposition``)."""
    return f"{package_id}-{version_name}.mpk"


def version_package_url(*, version: AppVersion) -> str | None:
    """A short-lived signed URL of ``version``'s own package for its owner (seed 000 ``package_url``): any
    state from upload-complete on (the sealed, then content-addressed, immutable copy); None before."""
    from django.conf import settings

    from mosis.core import storage

    if not version.package_key:
        return None
    name = package_filename(package_id=version.app.package_id, version_name=version.version_name)
    return storage.presigned_download(version.package_key, filename=name, expires=settings.DOWNLOAD_URL_TTL)


def version_list(*, app, status: str | None = None) -> QuerySet[AppVersion]:
    """An app's versions, newest ``version_code`` first (index app, status, -version_code)."""
    qs = AppVersion.objects.select_related("app").filter(app=app)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-version_code")


def version_get(*, app, version_id) -> AppVersion | None:
    try:
        return AppVersion.objects.select_related("app").filter(app=app, pk=version_id).first()
    except (ValueError, TypeError):
        return None


def review_queue() -> QuerySet[AppVersion]:
    """Versions waiting for a reviewer, oldest submission first (index status, submitted_at).

    Each row carries its app's last published version before it as ``previous_*`` annotations (one query
    for the whole page, not one per row): ``previous_id``, ``previous_permissions``, ``previous_dependencies``.
    """
    previous = AppVersion.objects.filter(
        app_id=OuterRef("app_id"), status=VersionStatus.PUBLISHED, version_code__lt=OuterRef("version_code")
    ).order_by("-version_code")
    return (
        AppVersion.objects.filter(status=VersionStatus.REVIEW)
        .select_related("app__owner")
        .annotate(
            previous_id=Subquery(previous.values("id")[:1]),
            previous_permissions=Subquery(previous.values("permissions")[:1]),
            previous_dependencies=Subquery(previous.values("dependencies")[:1]),
        )
        .order_by("submitted_at", "created_at")
    )


def previous_from_annotations(version: AppVersion) -> AppVersion | None:
    """The last published version as far as ``review_queue``'s annotations describe it (for diffs)."""
    if getattr(version, "previous_id", None) is None:
        return None
    return AppVersion(
        id=version.previous_id,
        permissions=_json(version.previous_permissions, list),
        dependencies=_json(version.previous_dependencies, dict),
    )


def _json(value, kind):
    """Subquery over a JSONField comes back decoded on PostgreSQL and as text on SQLite."""
    if isinstance(value, str):
        value = json.loads(value)
    return value if isinstance(value, kind) else kind()


def last_published_version(*, version: AppVersion) -> AppVersion | None:
    """The newest published version of the same app before this one (what a reviewer compares with)."""
    return (
        AppVersion.objects.filter(
            app_id=version.app_id, status=VersionStatus.PUBLISHED, version_code__lt=version.version_code
        )
        .order_by("-version_code")
        .first()
    )


def version_changes(*, version: AppVersion, previous: AppVersion | None) -> dict:
    """Permission and dependency diff against ``previous`` (None: everything is new)."""
    old_perms = set(previous.permissions or []) if previous else set()
    new_perms = set(version.permissions or [])
    old_deps = dict(previous.dependencies or {}) if previous else {}
    new_deps = dict(version.dependencies or {})
    return {
        "previous": previous,
        "permissions_added": sorted(new_perms - old_perms),
        "permissions_removed": sorted(old_perms - new_perms),
        "dependencies_added": {k: v for k, v in sorted(new_deps.items()) if k not in old_deps},
        "dependencies_removed": {k: v for k, v in sorted(old_deps.items()) if k not in new_deps},
        "dependencies_changed": {
            k: (old_deps[k], v) for k, v in sorted(new_deps.items()) if k in old_deps and old_deps[k] != v
        },
    }
