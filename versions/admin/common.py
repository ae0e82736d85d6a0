"""What the version admins share: who may look, and the small HTML pieces the queue and pages show."""

from __future__ import annotations

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.urls import NoReverseMatch
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince

from mosis.core import storage

from .. import selectors
from ..constants import ReviewFlag, VersionStatus
from ..models import AppVersion

LINE_BREAK = mark_safe("<br>")  # noqa: S308 - a constant separator, never user input
FLAG_LABELS = dict(ReviewFlag.choices)


class StaffOnlyMixin:
    """Any active staff member may look; deciding is checked per version by the policy."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def permissions_html(version: AppVersion):
    sensitive = set(version.sensitive_permissions or [])
    if not version.permissions:
        return "—"
    return format_html_join(
        ", ",
        "<span class='{}' title='{}'>{}</span>",
        (
            ("perm-sensitive" if p in sensitive else "perm", "sensitive" if p in sensitive else "", p)
            for p in version.permissions
        ),
    )


def changes_html(version: AppVersion, previous: AppVersion | None):
    """Permission and dependency changes since ``previous``, one per line."""
    diff = selectors.version_changes(version=version, previous=previous)
    parts = []
    if previous is None:
        parts.append("first published version")
    if diff["permissions_added"]:
        parts.append(
            format_html("<span class='perm-sensitive'>+perm: {}</span>", ", ".join(diff["permissions_added"]))
        )
    if diff["permissions_removed"]:
        parts.append(format_html("−perm: {}", ", ".join(diff["permissions_removed"])))
    for name, rng in diff["dependencies_added"].items():
        parts.append(format_html("+dep: {} {}", name, rng))
    for name, rng in diff["dependencies_removed"].items():
        parts.append(format_html("−dep: {} {}", name, rng))
    for name, (old, new) in diff["dependencies_changed"].items():
        parts.append(format_html("dep: {} {} → {}", name, old, new))
    if not parts:
        parts.append("no permission or dependency change")
    return format_html_join(LINE_BREAK, "{}", ((p,) for p in parts))


def flags_html(flags: list[str]):
    if not flags:
        return "—"
    return format_html_join(
        " ", "<span class='review-flag review-flag-{}'>{}</span>", ((f, FLAG_LABELS[f]) for f in flags)
    )


def size_html(version: AppVersion):
    """The package size, with the change since the last published version when there is one."""
    if not version.package_size:
        return "—"
    size = filesizeformat(version.package_size)
    previous = getattr(version, "previous_size", None)
    if not previous:
        return size
    percent = round((version.package_size - previous) * 100 / previous)
    return format_html(
        "{} <span class='size-delta'>({}{}%)</span>", size, "+" if percent >= 0 else "", percent
    )


def waiting_html(version: AppVersion):
    if version.submitted_at is None:
        return "—"
    return format_html(
        "<span title='submitted {} UTC'>{}</span>",
        version.submitted_at.strftime("%Y-%m-%d %H:%M"),
        timesince(version.submitted_at),
    )


def claim_html(version: AppVersion):
    """Who holds the version (``review_queue(viewer=...)`` annotates whether it is the viewer)."""
    claim = selectors.active_claim(version=version)
    if claim is None:
        return "—"
    mine = bool(getattr(version, "claimed_by_viewer", False))
    holder = "you" if mine else claim.reviewer.email
    css = "claim-mine" if mine else "claim-other"
    return format_html(
        "<span class='{}'>{}</span> <span class='quiet'>until {}</span>",
        css,
        holder,
        claim.expires_at.strftime("%H:%M"),
    )


def download_url(version: AppVersion) -> str | None:
    if not version.package_key or version.status in (VersionStatus.UPLOADING,):
        return None
    try:
        return storage.presigned_download(
            version.package_key,
            filename=f"{version.app.package_id}-{version.version_name}.mpk",
            expires=settings.DOWNLOAD_URL_TTL,
        )
    except NoReverseMatch:
        return None
