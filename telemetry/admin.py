"""Review console views of telemetry (SPEC §8): crash groups per app and the daily rollups, read-only.

Filter crash groups or rollups by app with the search box (package id) or from a link
``?app__id__exact=<app uuid>``.
"""

from django.contrib import admin

from .models import AppDailyStats, CrashGroup, CrashGroupVersion, CrashSample


class _ReadOnly:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CrashGroupVersionInline(_ReadOnly, admin.TabularInline):
    model = CrashGroupVersion
    fields = ["app_version", "occurrences", "first_seen", "last_seen"]
    readonly_fields = fields
    ordering = ["-last_seen"]
    extra = 0
    verbose_name_plural = "counts per app version"


class CrashSampleInline(_ReadOnly, admin.StackedInline):
    model = CrashSample
    fields = ["timestamp", "app_version", "message", "stack_trace", "context", "device"]
    readonly_fields = fields
    ordering = ["-timestamp"]
    extra = 0
    verbose_name_plural = "most recent reports"


@admin.register(CrashGroup)
class CrashGroupAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = [
        "crash_type",
        "short_message",
        "app",
        "app_version",
        "occurrences",
        "first_seen",
        "last_seen",
    ]
    list_select_related = ["app"]
    search_fields = ["app__package_id", "crash_type", "message"]
    date_hierarchy = "last_seen"
    ordering = ["-last_seen"]
    fields = [
        "id",
        "app",
        "crash_type",
        "message",
        "app_version",
        "occurrences",
        "first_seen",
        "last_seen",
        "fingerprint",
        "stack_trace",
        "context",
    ]
    readonly_fields = fields
    inlines = [CrashGroupVersionInline, CrashSampleInline]

    @admin.display(description="message")
    def short_message(self, obj):
        return obj.message[:80]


@admin.register(AppDailyStats)
class AppDailyStatsAdmin(_ReadOnly, admin.ModelAdmin):
    list_display = ["day", "app", "downloads", "active_users", "crashes", "updated_at"]
    list_select_related = ["app"]
    search_fields = ["app__package_id"]
    date_hierarchy = "day"
    ordering = ["-day", "app__package_id"]
    fields = ["app", "day", "downloads", "active_users", "crashes", "updated_at"]
    readonly_fields = fields
