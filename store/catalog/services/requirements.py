"""A version's dependencies as seed 002's ``AppDependencyRequirement`` rows, shared by the public version
detail (``GET /v1/store/apps/{package_id}/versions/{version_code}``, no device: every ``violation`` is null)
and a device's view of an app (``GET /v1/devices/me/store/apps/{package_id}``, violations computed for it).

Titles and icons of the dependencies come from their listing rows in one query; a dependency the store does
not describe (unknown, or a draft nobody may see yet) is named by its package id, without an icon.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from apps.constants import AppStatus
from store.catalog.links import store_icon_url_for
from store.models import AppListing
from store.resolver import REQUIRED, DependencyRule, Violation
from versions.models import AppVersion


def dependency_faces(package_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """``{package_id: (title, icon_url)}`` of the dependencies the store may name (one query)."""
    wanted = sorted(set(package_ids))
    if not wanted:
        return {}
    rows = (
        AppListing.objects.filter(package_id__in=wanted)
        .exclude(app__status=AppStatus.DRAFT)
        .select_related("app", "latest_version")
        .only(
            "package_id",
            "name",
            "app__icon_url",
            "app__status",
            "latest_version__version_code",
            "latest_version__icon_key",
        )
    )
    return {
        row.package_id: (
            row.name,
            store_icon_url_for(
                icon_url=row.app.icon_url, package_id=row.package_id, version=row.latest_version
            ),
        )
        for row in rows
    }


def requirement_rows(
    *,
    dependencies: Mapping[str, str],
    rules: Mapping[str, DependencyRule],
    faces: Mapping[str, tuple[str, str]],
    violations: Mapping[str, Violation | None] | None = None,
) -> list[dict]:
    """One row per dependency, by package id: ``{id, title, icon_url, optional, default, version_spec,
    description, config, violation}`` (``violation`` as ``Violation.as_dict()`` or None)."""
    violations = violations or {}
    rows = []
    for dep_id, spec in sorted(dependencies.items()):
        rule = rules.get(dep_id, REQUIRED)
        title, icon_url = faces.get(dep_id, (dep_id, ""))
        violation = violations.get(dep_id)
        rows.append(
            {
                "id": dep_id,
                "title": title,
                "icon_url": icon_url,
                "optional": rule.optional,
                "default": rule.default,
                "version_spec": spec,
                "description": rule.description or None,
                "config": dict(rule.config),
                "violation": violation.as_dict() if violation is not None else None,
            }
        )
    return rows


def dependency_rules_of(version: AppVersion) -> dict[str, DependencyRule]:
    """The version's dependency rules (``AppVersion.dependency_rules``) as the resolver reads them."""
    rules = version.dependency_rules if isinstance(version.dependency_rules, dict) else {}
    return {
        str(dep_id): DependencyRule(
            optional=bool(rule.get("optional", False)),
            default=bool(rule.get("default", True)),
            description=str(rule.get("description", "")),
            config=dict(rule.get("config") or {}),
        )
        for dep_id, rule in rules.items()
        if isinstance(rule, dict)
    }


def version_requirements(version: AppVersion) -> list[dict]:
    """The public requirement rows of ``version`` (no device, so no violation): one query for the faces."""
    dependencies = {str(k): str(v) for k, v in (version.dependencies or {}).items()}
    return requirement_rows(
        dependencies=dependencies, rules=dependency_rules_of(version), faces=dependency_faces(dependencies)
    )
