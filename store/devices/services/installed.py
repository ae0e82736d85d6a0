"""The device side (SPEC §5 "Devices", seed 002): installed set, update checks and install-plan dry runs.

A device authenticates with its ``md_`` token; everything here is computed for that device's
``mosis_version``. "Installable" means: a published, non-yanked version whose ``[min, max]`` Mosis range
contains the device's version, of an app whose staff-set ``max_mosis_version_override`` (when set) is not
below it.

Query bounds (asserted by the tests):

* ``device_apps_replace``: a delete and one bulk insert, whatever the size of the set (≤ 1000 items).
* ``device_updates_check``: three queries for any number of installed apps (the installed set, the apps with
  their newest installable version via a subquery, and those versions).
* ``device_plan``: the installed set (1) plus two queries (apps, versions) per *dependency layer*:
  :class:`DatabaseIndex` loads the requested and installed packages in one batch, then the packages their
  versions depend on, layer by layer, up to ``MAX_PRELOAD_LAYERS`` layers and ``MAX_INDEX_PACKAGES``
  packages. A package the resolver asks for beyond that is loaded alone (two queries), and the resolver's
  rounds are bounded (``store.resolver.DEFAULT_MAX_ROUNDS``), so a plan never runs unbounded queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import OuterRef, Subquery

from accounts.models import Device
from apps.constants import AppStatus
from apps.models import App
from mosis.core.errors import ApplicationError, ErrorCode
from store.catalog.constants import mosis_cap_number
from store.catalog.links import store_icon_url_for
from store.catalog.selectors import compatible_filter
from store.catalog.services.requirements import dependency_rules_of
from store.devices.config import MAX_INSTALLED_ITEMS, config_problems
from store.downloads.services import download_info_for
from store.models import DeviceApp
from store.resolver import Candidate, plan_changes
from versions.constants import VersionStatus, mosis_version_number
from versions.models import AppVersion

MAX_PRELOAD_LAYERS = 16
MAX_INDEX_PACKAGES = 5000
UPDATE_STATUSES = (AppStatus.PUBLISHED, AppStatus.UNLISTED)


def device_mosis_number(device: Device) -> int | None:
    """The device's Mosis version as a number; None (no compatibility filter) if it does not parse."""
    try:
        return mosis_version_number(device.mosis_version or None)
    except ValueError:
        return None


def _app_accepts(app: App, mosis_num: int | None) -> bool:
    if mosis_num is None:
        return True
    cap = mosis_cap_number(app.max_mosis_version_override)
    return cap is None or mosis_num <= cap


def _version_fits(version: AppVersion, mosis_num: int | None) -> bool:
    if mosis_num is None:
        return True
    return (version.min_mosis_num is None or version.min_mosis_num <= mosis_num) and (
        version.max_mosis_num is None or version.max_mosis_num >= mosis_num
    )


# --------------------------------------------------------------------------------------------------------
# Installed set


def _check_installed_items(items: Sequence[Mapping]) -> list[tuple[str, int]]:
    if len(items) > MAX_INSTALLED_ITEMS:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"At most {MAX_INSTALLED_ITEMS} installed apps may be reported.",
            {"apps": [f"Ensure this list has at most {MAX_INSTALLED_ITEMS} items."]},
        )
    pairs: list[tuple[str, int]] = []
    seen: set[str] = set()
    for item in items:
        package_id = item["package_id"]
        if package_id in seen:
            raise ApplicationError(
                ErrorCode.VALIDATION_ERROR,
                f"{package_id} is listed twice.",
                {"apps": [f"Duplicate package_id {package_id}."]},
            )
        seen.add(package_id)
        problems = config_problems(item.get("config") or {})
        if problems:
            raise ApplicationError(
                ErrorCode.VALIDATION_ERROR,
                f"The config reported for {package_id} is not allowed.",
                {"apps": problems},
            )
        pairs.append((package_id, int(item["version_code"])))
    return pairs


def device_apps_replace(*, device: Device, apps: Sequence[Mapping]) -> list[DeviceApp]:
    """Replace the device's reported installed set (seed 002) with ``apps``
    (``[{package_id, version_code, config?}]``; ``config`` bounded by ``config_problems``).

    Unknown package ids are kept: the device reports what it has, and an app may be published later.
    """
    pairs = _check_installed_items(apps)
    configs = {item["package_id"]: dict(item.get("config") or {}) for item in apps}
    rows = [
        DeviceApp(device=device, package_id=p, version_code=code, config=configs[p])
        for p, code in sorted(pairs)
    ]
    with transaction.atomic():
        DeviceApp.objects.filter(device=device).delete()
        DeviceApp.objects.bulk_create(rows)
    return rows


def _installed_pairs(*, device: Device, apps: Sequence[Mapping] | None) -> list[tuple[str, int]]:
    if apps is not None:
        return _check_installed_items(apps)
    return list(
        DeviceApp.objects.filter(device=device)
        .order_by("package_id")
        .values_list("package_id", "version_code")
    )


# --------------------------------------------------------------------------------------------------------
# Update check


def device_updates_check(*, device: Device, apps: Sequence[Mapping] | None = None) -> dict:
    """Updates for the installed set (``apps`` if given, else the stored set) and the ``disabled`` list.

    An update is the newest installable version whose ``version_code`` is greater than the installed one, for
    apps that are ``published`` or ``unlisted``. ``disabled`` lists installed apps whose status is
    ``disabled`` (seed 001: turned off on devices); ``pending_disable`` and ``suspended`` apps get no
    updates but are not turned off.
    """
    pairs = _installed_pairs(device=device, apps=apps)
    if not pairs:
        return {"updates": [], "disabled": []}
    installed = dict(pairs)
    mosis_num = device_mosis_number(device)
    newest = AppVersion.objects.filter(
        app=OuterRef("pk"), status=VersionStatus.PUBLISHED, yanked_at__isnull=True
    )
    if mosis_num is not None:
        newest = newest.filter(compatible_filter(mosis_num))
    newest = newest.order_by("-version_code").values("pk")[:1]
    rows = list(
        App.objects.filter(package_id__in=list(installed))
        .annotate(newest_id=Subquery(newest))
        .values("package_id", "status", "max_mosis_version_override", "newest_id")
    )
    disabled = sorted(r["package_id"] for r in rows if r["status"] == AppStatus.DISABLED)
    wanted = {
        r["newest_id"]: r["package_id"]
        for r in rows
        if r["status"] in UPDATE_STATUSES
        and r["newest_id"] is not None
        and (mosis_num is None or cap_allows(r["max_mosis_version_override"], mosis_num))
    }
    versions = AppVersion.objects.filter(pk__in=list(wanted)).select_related("app") if wanted else []
    updates = []
    for version in versions:
        package_id = version.app.package_id
        if version.version_code <= installed[package_id]:
            continue
        updates.append(
            {
                "package_id": package_id,
                "name": version.app.name,
                "installed_version_code": installed[package_id],
                "version": version.version_name,
                "version_code": version.version_code,
                "release_notes": version.release_notes,
                "requires_restart": version.requires_restart or version.app.requires_restart,
                "download": download_info_for(version=version),
            }
        )
    updates.sort(key=lambda u: u["package_id"])
    return {"updates": updates, "disabled": disabled}


def cap_allows(override: str, mosis_num: int) -> bool:
    cap = mosis_cap_number(override)
    return cap is None or mosis_num <= cap


# --------------------------------------------------------------------------------------------------------
# Install plans


@dataclass
class _Package:
    status: str
    candidates: list[Candidate]


class DatabaseIndex:
    """:class:`store.resolver.Index` over the database for one device, cached for one request.

    ``preload`` loads packages and, layer by layer, the packages their versions depend on, two queries a
    layer. Versions not installable on the device are not candidates, but are kept so the device's installed
    versions (possibly yanked or now incompatible) can still be described.
    """

    def __init__(self, *, mosis_num: int | None):
        self.mosis_num = mosis_num
        self._packages: dict[str, _Package | None] = {}
        self._versions: dict[tuple[str, int], AppVersion] = {}

    # Index protocol -------------------------------------------------------------------------------------
    def candidates(self, package_id: str) -> Sequence[Candidate]:
        package = self._package(package_id)
        return tuple(package.candidates) if package else ()

    def status(self, package_id: str) -> str | None:
        package = self._package(package_id)
        return package.status if package else None

    # Loading ----------------------------------------------------------------------------------------------
    def _package(self, package_id: str) -> _Package | None:
        if package_id not in self._packages:
            self._load([package_id])
        return self._packages.get(package_id)

    def preload(self, package_ids: Iterable[str]) -> None:
        layer = {p for p in package_ids if p not in self._packages}
        for _ in range(MAX_PRELOAD_LAYERS):
            room = MAX_INDEX_PACKAGES - len(self._packages)
            if not layer or room <= 0:
                return
            batch = sorted(layer)[:room]
            deps = self._load(batch)
            layer = {d for d in deps if d not in self._packages}

    def _load(self, package_ids: Sequence[str]) -> set[str]:
        """Load ``package_ids`` (2 queries); returns the package ids their installable versions depend on."""
        for package_id in package_ids:
            self._packages[package_id] = None
        apps = {
            app.package_id: app
            for app in App.objects.filter(package_id__in=list(package_ids)).only(
                "id",
                "package_id",
                "name",
                "status",
                "icon_url",
                "max_mosis_version_override",
                "requires_restart",
            )
        }
        if not apps:
            return set()
        by_app: dict = {app.pk: app for app in apps.values()}
        for app in apps.values():
            self._packages[app.package_id] = _Package(status=app.status, candidates=[])
        deps: set[str] = set()
        versions = AppVersion.objects.filter(
            app_id__in=list(by_app), status=VersionStatus.PUBLISHED
        ).order_by("app_id", "-version_code")
        for version in versions:
            app = by_app[version.app_id]
            version.app = app  # no extra query for download info
            self._versions[(app.package_id, version.version_code)] = version
            if (
                version.yanked_at is None
                and _version_fits(version, self.mosis_num)
                and _app_accepts(app, self.mosis_num)
            ):
                self._packages[app.package_id].candidates.append(self.candidate_for(version))
                deps.update(self._dependencies(version))
        return deps

    @staticmethod
    def _dependencies(version: AppVersion) -> dict[str, str]:
        deps = version.dependencies if isinstance(version.dependencies, dict) else {}
        return {str(k): str(v) for k, v in deps.items()}

    def candidate_for(self, version: AppVersion) -> Candidate:
        app = version.app
        return Candidate(
            package_id=app.package_id,
            version=version.version_name,
            version_code=version.version_code,
            dependencies=self._dependencies(version),
            rules=dependency_rules_of(version),
            title=app.name,
            icon_url=store_icon_url_for(icon_url=app.icon_url, package_id=app.package_id, version=version),
            min_mosis_version=version.min_mosis_version or None,
            max_mosis_version=version.max_mosis_version or None,
        )

    def version(self, package_id: str, version_code: int) -> AppVersion | None:
        return self._versions.get((package_id, version_code))


def installed_candidates(index: DatabaseIndex, rows: Sequence[tuple[str, int]]) -> dict[str, Candidate]:
    """The installed set as candidates: the published version each reported code names, else a stand-in
    without dependencies (an app or version the store does not describe)."""
    installed: dict[str, Candidate] = {}
    for package_id, code in rows:
        version = index.version(package_id, code)
        if version is not None:
            installed[package_id] = index.candidate_for(version)
        else:
            installed[package_id] = Candidate(
                package_id=package_id, version=_unknown_version(code), version_code=code
            )
    return installed


def device_plan(
    *,
    device: Device,
    install: Sequence[tuple[str, str | None]],
    uninstall: Sequence[str],
    decline: Sequence[str] = (),
) -> dict:
    """Dry-run plan for installing/upgrading ``install`` (``(package_id, version spec or None)``) and removing
    ``uninstall`` on ``device``'s installed set: ordered install steps (dependencies first) with download info,
    the installed apps that would break, and seed 002 violations. Nothing is stored.

    Installed packages the store does not know (or whose installed version is not a published version) are
    taken as having no dependencies. ``ValueError`` from the resolver (malformed request) becomes a 400.
    """
    reported = list(
        DeviceApp.objects.filter(device=device)
        .order_by("package_id")
        .values_list("package_id", "version_code", "config")
    )
    installed_pairs = [(p, code) for p, code, _ in reported]
    configs = {p: (config if isinstance(config, dict) else {}) for p, _, config in reported}
    index = DatabaseIndex(mosis_num=device_mosis_number(device))
    index.preload([p for p, _ in install] + [p for p, _ in installed_pairs] + list(uninstall))
    installed = installed_candidates(index, installed_pairs)
    try:
        plan = plan_changes(
            index=index,
            installed=installed,
            install=install,
            uninstall=uninstall,
            decline=decline,
            configs=configs,
        )
    except ValueError as exc:
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, str(exc), {"install": [str(exc)]})
    steps = []
    for candidate in plan.install:
        version = index.version(candidate.package_id, candidate.version_code)
        current = installed.get(candidate.package_id)
        steps.append(
            {
                "package_id": candidate.package_id,
                "title": candidate.title,
                "icon_url": candidate.icon_url,
                "action": _step_action(current, candidate),
                "installed_version_code": current.version_code if current is not None else None,
                "version": candidate.version,
                "version_code": candidate.version_code,
                "dependencies": dict(candidate.dependencies),
                "configure": plan.configure.get(candidate.package_id, {}),
                "download": download_info_for(version=version) if version else None,
            }
        )
    return {
        "ok": plan.ok,
        "install": steps,
        "uninstall": [p for p in dict.fromkeys(uninstall) if p in installed],
        "breakages": [b.as_dict() for b in plan.breakages],
        "violations": [v.as_dict() for v in plan.violations],
    }


def _step_action(current: Candidate | None, candidate: Candidate) -> str:
    if current is None:
        return "install"
    return "downgrade" if candidate.version_code < current.version_code else "upgrade"


def _unknown_version(code: int) -> str:
    # A version the store does not describe: a valid semver that no range prefers, so it never matches "^1".
    return f"0.0.0-unknown.{code}"
