"""The store as one device sees it (seed 002): its reported apps with the store's view of each, and one
app's ``ApiAppAvailableFull`` — status, installed and latest versions, and requirements with violations.

"Latest" is always the newest version *installable on this device* (published, not yanked, compatible
with its Mosis version and under the app's staff-set cap), as for update checks and plans.

Query bounds (asserted by the tests):

* ``device_apps_view``: three queries for any number of reported apps (the reported set; the apps with
  their newest installable version's name and code as subqueries; the installed versions that the store
  published, for their names and whether they are yanked).
* ``device_app_store_view``: the app, the device's reported set, the index (two queries per dependency
  layer, as for a plan: ``DatabaseIndex.preload``) and one query for the dependencies' titles and icons.
"""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from accounts.models import Device
from apps.constants import AppStatus
from apps.models import App
from store.catalog.links import store_icon_url_for
from store.catalog.selectors import compatible_filter, listed_app_for_package
from store.catalog.services.listing import render_long_description
from store.catalog.services.requirements import dependency_faces, requirement_rows
from store.devices.services.installed import (
    UPDATE_STATUSES,
    DatabaseIndex,
    cap_allows,
    device_mosis_number,
    installed_candidates,
)
from store.models import DeviceApp
from store.resolver import requirement_checks
from versions.constants import VersionStatus
from versions.models import AppVersion

STATUS_NOT_INSTALLED = "not_installed"
STATUS_INSTALLED = "installed"
STATUS_UPDATE_AVAILABLE = "update_available"
STATUS_INCOMPATIBLE = "incompatible"


# --------------------------------------------------------------------------------------------------------
# The reported set with the store's view


def device_apps_view(*, device: Device) -> list[dict]:
    """Every app the device reported (by package id) with ``store``: what the store says of it for this
    device, or None for an app the store does not describe (unknown, or a draft nobody may see).

    ``store``: ``name``, ``status`` (the app's), ``disabled`` (turn it off, seed 001), ``installed_version``
    (the name of the reported code when the store published it, else None), ``yanked`` (the reported
    version was withdrawn), ``latest_version``/``latest_version_code`` (newest installable on this device;
    None when there is none, or the app is hidden) and ``update_available``.
    """
    rows = list(DeviceApp.objects.filter(device=device).order_by("package_id"))
    if not rows:
        return []
    mosis_num = device_mosis_number(device)
    newest = AppVersion.objects.filter(
        app=OuterRef("pk"), status=VersionStatus.PUBLISHED, yanked_at__isnull=True
    )
    if mosis_num is not None:
        newest = newest.filter(compatible_filter(mosis_num))
    newest = newest.order_by("-version_code")
    apps = {
        app["package_id"]: app
        for app in App.objects.filter(package_id__in=[r.package_id for r in rows])
        .exclude(status=AppStatus.DRAFT)
        .annotate(
            newest_name=Subquery(newest.values("version_name")[:1]),
            newest_code=Subquery(newest.values("version_code")[:1]),
        )
        .values(
            "pk", "package_id", "name", "status", "max_mosis_version_override", "newest_name", "newest_code"
        )
    }
    published = {}
    if apps:
        # Two IN lists rather than one OR per reported pair (SQLite refuses expressions 1000 deep); the few
        # extra rows (another reported app's code) are dropped by the pair lookup below.
        reported_codes = {row.version_code for row in rows if row.package_id in apps}
        published = {
            (app_id, code): (name, yanked_at)
            for app_id, code, name, yanked_at in AppVersion.objects.filter(
                app_id__in=[app["pk"] for app in apps.values()],
                version_code__in=sorted(reported_codes),
                status=VersionStatus.PUBLISHED,
            ).values_list("app_id", "version_code", "version_name", "yanked_at")
        }
    result = []
    for row in rows:
        app = apps.get(row.package_id)
        store = None
        if app is not None:
            installed = published.get((app["pk"], row.version_code))
            offered = (
                app["status"] in UPDATE_STATUSES
                and app["newest_code"] is not None
                and (mosis_num is None or cap_allows(app["max_mosis_version_override"], mosis_num))
            )
            store = {
                "name": app["name"],
                "status": app["status"],
                "disabled": app["status"] == AppStatus.DISABLED,
                "installed_version": installed[0] if installed else None,
                "yanked": bool(installed and installed[1] is not None),
                "latest_version": app["newest_name"] if offered else None,
                "latest_version_code": app["newest_code"] if offered else None,
                "update_available": bool(offered and app["newest_code"] > row.version_code),
            }
        result.append(
            {
                "package_id": row.package_id,
                "version_code": row.version_code,
                "config": row.config if isinstance(row.config, dict) else {},
                "reported_at": row.reported_at,
                "store": store,
            }
        )
    return result


# --------------------------------------------------------------------------------------------------------
# One app, device-relative (seed 002 ApiAppAvailableFull)


def device_app_store_view(*, device: Device, package_id: str) -> dict:
    """Seed 002's ``ApiAppAvailableFull`` of a reachable app (404 ``NOT_FOUND`` otherwise) for ``device``.

    ``status``: ``incompatible`` when no version is installable on the device; else ``not_installed``,
    ``installed``, or ``update_available`` (the latest installable code is above the reported one).
    ``requirements`` describe the latest installable version (the installed one when none is), each
    ``violation`` computed against what the device reported (``store.resolver.requirement_checks``).
    """
    app = listed_app_for_package(package_id)
    reported = list(
        DeviceApp.objects.filter(device=device)
        .order_by("package_id")
        .values_list("package_id", "version_code", "config")
    )
    codes = {p: code for p, code, _ in reported}
    configs = {p: (config if isinstance(config, dict) else {}) for p, _, config in reported}
    index = DatabaseIndex(mosis_num=device_mosis_number(device))
    index.preload([package_id])
    candidates = sorted(index.candidates(package_id), key=lambda c: c.version_code, reverse=True)
    latest = candidates[0] if candidates else None
    installed_code = codes.get(package_id)
    installed_version = index.version(package_id, installed_code) if installed_code is not None else None
    shown = latest or (index.candidate_for(installed_version) if installed_version is not None else None)
    if latest is None:
        status = STATUS_INCOMPATIBLE
    elif installed_code is None:
        status = STATUS_NOT_INSTALLED
    elif latest.version_code > installed_code:
        status = STATUS_UPDATE_AVAILABLE
    else:
        status = STATUS_INSTALLED
    requirements: list[dict] = []
    if shown is not None:
        # Installed dependencies the index knows as published versions; others stand in as unknown ones.
        installed = installed_candidates(index, [(p, codes[p]) for p in shown.dependencies if p in codes])
        checks = dict(requirement_checks(shown, index=index, installed=installed, configs=configs))
        requirements = requirement_rows(
            dependencies=dict(shown.dependencies),
            rules=shown.rules,
            faces=dependency_faces(shown.dependencies),
            violations=checks,
        )
    latest_version = index.version(package_id, latest.version_code) if latest is not None else None
    return {
        "id": app.package_id,
        "title": app.name,
        "status": status,
        "version_installed": installed_version.version_name if installed_version is not None else None,
        "version_code_installed": installed_code,
        "icon_url": store_icon_url_for(
            icon_url=app.icon_url, package_id=app.package_id, version=latest_version or installed_version
        ),
        "version_latest": latest.version if latest is not None else None,
        "version_code_latest": latest.version_code if latest is not None else None,
        "description_short": app.description,
        "release_notes": latest_version.release_notes if latest_version is not None else None,
        "requirements": requirements,
        "description_long": app.long_description,
        "description_long_html": render_long_description(app.long_description),
        "versions": [c.version for c in candidates],
    }
