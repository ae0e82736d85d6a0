"""Every version, read-only: statuses change only through the services (the queue, the API, commands).
Its History button and inline show the version's activity events in words."""

from __future__ import annotations

import json

from django.contrib import admin
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from apps.admin_activity import ActivityHistoryMixin, EventDetailsMixin
from apps.models import ActivityEvent

from ..constants import VersionStatus
from ..models import AppVersion
from .common import StaffOnlyMixin, download_url, permissions_html


class VersionActivityInline(EventDetailsMixin, admin.TabularInline):
    model = ActivityEvent
    fk_name = "version"
    fields = ["created_at", "details"]
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

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


@admin.register(AppVersion)
class AppVersionAdmin(ActivityHistoryMixin, StaffOnlyMixin, admin.ModelAdmin):
    list_display = [
        "title",
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
            {
                "fields": [
                    "app_link",
                    "version_name",
                    "version_code",
                    "status",
                    "review_link",
                    "release_notes",
                    "download",
                ]
            },
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

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("app", "reviewed_by")

    def history_events(self, obj):
        return ActivityEvent.objects.filter(version=obj)

    @admin.display(description="version", ordering="app__package_id")
    def title(self, obj):
        return str(obj)

    @admin.display(description="size", ordering="package_size")
    def size(self, obj):
        from django.template.defaultfilters import filesizeformat

        return filesizeformat(obj.package_size) if obj.package_size else "—"

    @admin.display(description="app")
    def app_link(self, obj):
        url = reverse("admin:apps_app_change", args=[obj.app_id])
        return format_html('<a href="{}">{}</a> ({})', url, obj.app.package_id, obj.app.name)

    @admin.display(description="review")
    def review_link(self, obj):
        url = reverse("admin:versions_reviewqueueitem_change", args=[obj.pk])
        label = "Open the review page" if obj.status == VersionStatus.REVIEW else "Review page (decided)"
        return format_html('<a href="{}">{}</a>', url, label)

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
            "{}", render_to_string("admin/versions/_report.html", {"report": obj.validation_report})
        )

    @admin.display(description="manifest")
    def manifest_display(self, obj):
        if not obj.manifest:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(obj.manifest, indent=2, sort_keys=True))
