"""Reads composed for the portal's pages from the domain apps' selectors (queries designed here, STYLE §6:
each page costs a fixed number of queries whatever the number of apps, versions or keys)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, OuterRef, Subquery

from apps.models import App
from apps.selectors import event_list
from versions.constants import VersionStatus
from versions.models import AppVersion
from versions.selectors import app_latest_version, apps_with_latest_version

from . import store_reads
from .next_steps import NextStep, next_step_for

NEWEST_VERSION_FIELDS = (
    "id",
    "app_id",
    "version_name",
    "version_code",
    "status",
    "validation_report",
    "reviewed_at",
    "yanked_at",
    "created_at",
)


@dataclass
class DashboardRow:
    app: App
    newest: AppVersion | None  # the highest version code, whatever its state
    latest_published: AppVersion | None
    downloads_7d: int
    in_review: int
    next_step: NextStep


def dashboard_apps(*, user):
    """``user``'s apps (``apps_with_latest_version``), newest first, each annotated with its newest version's
    id."""
    newest = AppVersion.objects.filter(app=OuterRef("pk")).order_by("-version_code").values("pk")[:1]
    return apps_with_latest_version(user=user).annotate(newest_version_id=Subquery(newest))


def dashboard_rows(*, apps: list[App]) -> list[DashboardRow]:
    """One row per app of a dashboard page: three queries for the whole page (newest versions, versions in
    review, downloads), on top of the page's apps from ``dashboard_apps``."""
    app_ids = [app.pk for app in apps]
    wanted = [app.newest_version_id for app in apps if app.newest_version_id is not None]
    newest = AppVersion.objects.only(*NEWEST_VERSION_FIELDS).in_bulk(wanted) if wanted else {}
    in_review = (
        dict(
            AppVersion.objects.filter(app_id__in=app_ids, status=VersionStatus.REVIEW)
            .values("app_id")
            .annotate(n=Count("id"))
            .values_list("app_id", "n")
        )
        if app_ids
        else {}
    )
    downloads = store_reads.downloads_last_7_days(app_ids=app_ids)
    rows = []
    for app in apps:
        version = newest.get(app.newest_version_id)
        rows.append(
            DashboardRow(
                app=app,
                newest=version,
                latest_published=app_latest_version(app=app),
                downloads_7d=downloads.get(app.pk, 0),
                in_review=in_review.get(app.pk, 0),
                next_step=next_step_for(app=app, newest=version),
            )
        )
    return rows


def app_recent_events(*, user, app: App, limit: int = 10) -> list:
    """The app's latest activity (the ``/v1/events`` selector, filtered to the app)."""
    return list(event_list(user=user, app_id=app.pk)[:limit])


def version_timeline(*, user, version: AppVersion) -> list:
    """The version's activity, oldest first: created, uploaded, validated, submitted, the reviewer's decision
    with its notes, published, yanked."""
    return list(
        event_list(user=user, app_id=version.app_id).filter(version=version).order_by("created_at", "id")
    )
