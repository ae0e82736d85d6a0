"""Public store reads: querysets with their joins designed up front (STYLE §6)."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from apps.constants import REACHABLE_STATUSES
from apps.models import App
from mosis.core.errors import ApplicationError, ErrorCode
from versions.constants import VersionStatus
from versions.models import AppVersion

from .services.listing import mosis_cap_number


def published_versions(*, app) -> QuerySet[AppVersion]:
    """Every published version of ``app`` (yanked included), newest first."""
    return AppVersion.objects.filter(app=app, status=VersionStatus.PUBLISHED).order_by("-version_code")


def compatible_filter(mosis_num: int, prefix: str = "") -> Q:
    """Versions whose [min, max] Mosis range contains ``mosis_num`` (a null bound is open)."""
    return (
        Q(**{f"{prefix}min_mosis_num__isnull": True}) | Q(**{f"{prefix}min_mosis_num__lte": mosis_num})
    ) & (Q(**{f"{prefix}max_mosis_num__isnull": True}) | Q(**{f"{prefix}max_mosis_num__gte": mosis_num}))


def installable_versions(*, app, mosis_num: int | None = None) -> QuerySet[AppVersion]:
    """Published, non-yanked versions, compatible with ``mosis_num`` when given (app cap included), newest first."""
    qs = AppVersion.objects.filter(app=app, status=VersionStatus.PUBLISHED, yanked_at__isnull=True)
    if mosis_num is not None:
        cap = mosis_cap_number(app.max_mosis_version_override)
        if cap is not None and mosis_num > cap:
            return qs.none()
        qs = qs.filter(compatible_filter(mosis_num))
    return qs.order_by("-version_code")


def latest_compatible_version(*, app, mosis_version: int | str | None) -> AppVersion | None:
    """Newest published, non-yanked version of ``app`` compatible with ``mosis_version``.

    ``mosis_version`` may be a version string ("1.4"), its number (``mosis_version_number``) or None (any).
    The app's staff-set ``max_mosis_version_override`` caps compatibility. Raises ValueError on a bad string.
    """
    from versions.constants import mosis_version_number

    num = mosis_version_number(mosis_version) if isinstance(mosis_version, str) else mosis_version
    return installable_versions(app=app, mosis_num=num).select_related("signing_key").first()


def listed_app_for_package(package_id: str) -> App:
    """The app reachable by package id (``published`` or ``unlisted``); 404 ``NOT_FOUND`` otherwise."""
    app = (
        App.objects.select_related("category", "owner")
        .filter(package_id=package_id, status__in=REACHABLE_STATUSES)
        .first()
    )
    if app is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, "App not found.")
    return app
