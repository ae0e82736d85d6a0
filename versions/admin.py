"""The review console (SPEC §8): a review queue of versions in ``review`` (oldest first) with what changed
since the last published version, the validation report and manifest, a download link, and approve / reject
from the review page or as bulk actions; plus a read-only version admin with each version's history.

Every decision calls ``versions.services.version_review`` — the same service as ``manage.py review`` — so the
policy (staff only, never on one's own app) and the audit/email side effects are the same everywhere.
"""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from apps.models import ActivityEvent
from apps.policies import can_review_version
from mosis.core import storage
from mosis.core.errors import ApplicationError

from . import selectors, services
from .constants import VersionStatus
from .models import AppVersion, ReviewQueueItem

SENSITIVE_STYLE = "color:#ba2121;font-weight:bold"


def permissions_html(version: AppVersion):
    sensitive = set(version.sensitive_permissions or [])
    if not version.permissions:
        return "—"
    return format_html_join(
        ", ",
        "<span style='{}' title='{}'>{}</span>",
        (
            (SENSITIVE_STYLE if p in sensitive else "", "sensitive" if p in sensitive else "", p)
            for p in version.permissions
        ),
    )


def changes_html(version: AppVersion, previous: AppVersion | None):
    diff = selectors.version_changes(version=version, previous=previous)
    parts = []
    if previous is None:
        parts.append("first published version")
    if diff["permissions_added"]:
        parts.append(
            format_html(
                "<span style='{}'>+perm: {}</span>", SENSITIVE_STYLE, ", ".join(diff["permissions_added"])
            )
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
    return format_html_join("<br>", "{}", ((p,) for p in parts))


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


class StaffOnlyMixin:
    """Any staff member may look; deciding is checked per version by the policy."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VersionActivityInline(admin.TabularInline):
    model = ActivityEvent
    fk_name = "version"
    fields = ["created_at", "type", "actor", "data"]
    readonly_fields = fields
    ordering = ["-created_at"]
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "activity history (newest first)"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(AppVersion)
class AppVersionAdmin(StaffOnlyMixin, admin.ModelAdmin):
    """Every version, read-only: statuses change only through the services (queue actions, API, commands)."""

    list_display = [
        "app",
        "version_name",
        "version_code",
        "status",
        "size",
        "created_at",
        "published_at",
        "yanked_at",
    ]
    list_filter = ["status", "requires_restart", "created_at"]
    search_fields = ["app__package_id", "app__name", "version_name", "sha256"]
    list_select_related = ["app"]
    date_hierarchy = "created_at"
    inlines = [VersionActivityInline]
    fieldsets = [
        (
            None,
            {"fields": ["app_link", "version_name", "version_code", "status", "release_notes", "download"]},
        ),
        ("Review", {"fields": ["review_notes", "reviewed_by", "submitted_at", "reviewed_at"]}),
        (
            "Package",
            {
                "fields": [
                    "package_size",
                    "sha256",
                    "signature",
                    "signing_key_fingerprint",
                    "permissions_display",
                    "dependencies",
                    "languages",
                    "min_mosis_version",
                    "max_mosis_version",
                    "requires_restart",
                ]
            },
        ),
        ("Validation", {"fields": ["report_display", "manifest_display"]}),
        (
            "Timestamps",
            {
                "fields": [
                    "created_at",
                    "upload_expires_at",
                    "validation_started_at",
                    "published_at",
                    "yanked_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("app", "reviewed_by")

    @admin.display(description="size", ordering="package_size")
    def size(self, obj):
        return filesizeformat(obj.package_size) if obj.package_size else "—"

    @admin.display(description="app")
    def app_link(self, obj):
        url = reverse("admin:apps_app_change", args=[obj.app_id])
        return format_html('<a href="{}">{}</a> ({})', url, obj.app.package_id, obj.app.name)

    @admin.display(description="package")
    def download(self, obj):
        url = download_url(obj)
        return format_html('<a href="{}">Download .mpk</a>', url) if url else "—"

    @admin.display(description="permissions (sensitive in red)")
    def permissions_display(self, obj):
        return permissions_html(obj)

    @admin.display(description="validation report")
    def report_display(self, obj):
        return format_html(
            "{}", _render_template("admin/versions/_report.html", {"report": obj.validation_report})
        )

    @admin.display(description="manifest")
    def manifest_display(self, obj):
        if not obj.manifest:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.manifest, indent=2, sort_keys=True))

    def response_change(self, request, obj):
        return HttpResponseRedirect(reverse("admin:versions_appversion_change", args=[obj.pk]))


def _render_template(name: str, context: dict) -> str:
    from django.template.loader import render_to_string

    return render_to_string(name, context)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        required=False,
        max_length=5000,
        help_text="Sent to the developer. Required to reject.",
    )


class BulkRejectForm(forms.Form):
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
        max_length=5000,
        help_text="Sent to every developer concerned: say why.",
    )


def _decide(request, versions, *, decision: str, notes: str) -> None:
    """Apply one decision to each version through the service; report each outcome as a message."""
    done = 0
    for version in versions:
        try:
            services.version_review(version=version, reviewer=request.user, decision=decision, notes=notes)
            done += 1
        except ApplicationError as exc:
            messages.error(request, f"{version.app.package_id} {version.version_name}: {exc.message}")
    if done:
        verb = "approved" if decision == "approve" else "rejected"
        messages.success(request, f"{done} version(s) {verb}.")


@admin.register(ReviewQueueItem)
class ReviewQueueAdmin(StaffOnlyMixin, admin.ModelAdmin):
    """Versions in ``review``, oldest submission first. Open one to see everything and decide."""

    list_display = [
        "package",
        "app_name",
        "developer",
        "version_name",
        "size",
        "permissions_col",
        "changes_col",
        "submitted_at",
    ]
    list_display_links = ["package", "version_name"]
    search_fields = ["app__package_id", "app__name", "app__owner__email"]
    actions = ["approve_selected", "reject_selected"]
    list_per_page = 50

    def get_queryset(self, request):
        return selectors.review_queue()

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="app", ordering="app__package_id")
    def package(self, obj):
        return obj.app.package_id

    @admin.display(description="name")
    def app_name(self, obj):
        return obj.app.name

    @admin.display(description="developer")
    def developer(self, obj):
        return obj.app.owner.email

    @admin.display(description="size", ordering="package_size")
    def size(self, obj):
        return filesizeformat(obj.package_size) if obj.package_size else "—"

    @admin.display(description="permissions (sensitive in red)")
    def permissions_col(self, obj):
        return permissions_html(obj)

    @admin.display(description="since last published")
    def changes_col(self, obj):
        return changes_html(obj, selectors.previous_from_annotations(obj))

    @admin.action(description="Approve selected versions")
    def approve_selected(self, request, queryset):
        _decide(request, queryset, decision="approve", notes="")

    @admin.action(description="Reject selected versions (asks for notes)")
    def reject_selected(self, request, queryset):
        form = BulkRejectForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            _decide(request, queryset, decision="reject", notes=form.cleaned_data["notes"])
            return None
        return TemplateResponse(
            request,
            "admin/versions/reject_selected.html",
            {
                **self.admin_site.each_context(request),
                "title": "Reject versions",
                "opts": self.model._meta,
                "versions": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The review page: everything a reviewer needs, and the decision form."""
        version = get_object_or_404(
            AppVersion.objects.select_related("app__owner", "reviewed_by"), pk=object_id
        )
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.version_review(
                    version=version,
                    reviewer=request.user,
                    decision=form.cleaned_data["decision"],
                    notes=form.cleaned_data["notes"],
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                verb = "approved" if form.cleaned_data["decision"] == "approve" else "rejected"
                messages.success(request, f"{version.app.package_id} {version.version_name} {verb}.")
                return HttpResponseRedirect(reverse("admin:versions_reviewqueueitem_changelist"))
        previous = selectors.last_published_version(version=version)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review {version.app.package_id} {version.version_name}",
            "opts": self.model._meta,
            "version": version,
            "previous": previous,
            "diff": selectors.version_changes(version=version, previous=previous),
            "permissions": permissions_html(version),
            "manifest": json.dumps(version.manifest, indent=2, sort_keys=True) if version.manifest else "",
            "report": version.validation_report,
            "download_url": download_url(version),
            "events": version.events.select_related("actor").order_by("-created_at")[:50],
            "form": form,
            "can_decide": version.status == VersionStatus.REVIEW
            and can_review_version(request.user, version),
            "own_app": version.app.owner_id == request.user.pk,
        }
        return TemplateResponse(request, "admin/versions/review.html", context)
