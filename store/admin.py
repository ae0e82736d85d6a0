"""Review console for the community side: reviews (hide/unhide), replies, abuse reports per app (also on the
app's page, ``AbuseReportInline``), device sets.

Every action calls a service (``store.community.services.reviews`` / ``store.community.services.abuse``), so the admin cannot
disagree with the API: hiding a review recomputes the ratings, and app decisions go through
``apps.services.app_set_status`` (audited, owner emailed).
"""

from django.contrib import admin, messages
from django.db.models import Count, Q

from apps.constants import AppStatus
from apps.models import App
from mosis.core.admin_inlines import ReadOnlyInlineMixin
from mosis.core.errors import ApplicationError

from .community.services import abuse, reviews
from .models import AbuseReport, DeviceApp, Review, ReviewReply


class AbuseReportInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The app page's abuse reports (added to the apps admin through its composition hook: the write side
    never imports store)."""

    model = AbuseReport
    fields = ["reason", "reporter", "comment", "created_at", "resolved_at"]
    readonly_fields = fields
    verbose_name_plural = "abuse reports"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("reporter")


admin.site.get_model_admin(App).add_inlines(AbuseReportInline)


class ReviewReplyInline(admin.StackedInline):
    model = ReviewReply
    extra = 0
    fields = ["author", "body", "created_at", "updated_at"]
    readonly_fields = ["author", "created_at", "updated_at"]
    can_delete = True


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["app", "user", "rating", "title", "hidden", "created_at"]
    list_filter = ["hidden", "rating", "created_at"]
    search_fields = ["app__package_id", "app__name", "user__email", "title", "body"]
    list_select_related = ["app", "user"]
    raw_id_fields = ["app", "user"]
    readonly_fields = ["app", "user", "rating", "title", "body", "version_name", "hidden", "created_at"]
    inlines = [ReviewReplyInline]
    actions = ["hide_reviews", "unhide_reviews"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False  # reviews come from users through the API

    @admin.action(description="Hide selected reviews (ratings are recomputed)")
    def hide_reviews(self, request, queryset):
        changed = reviews.reviews_set_hidden(reviews=queryset, hidden=True)
        self.message_user(request, f"{changed} review(s) hidden.", messages.SUCCESS)

    @admin.action(description="Show selected reviews again (ratings are recomputed)")
    def unhide_reviews(self, request, queryset):
        changed = reviews.reviews_set_hidden(reviews=queryset, hidden=False)
        self.message_user(request, f"{changed} review(s) shown.", messages.SUCCESS)


@admin.register(ReviewReply)
class ReviewReplyAdmin(admin.ModelAdmin):
    list_display = ["review", "author", "created_at", "updated_at"]
    search_fields = ["review__app__package_id", "author__email", "body"]
    list_select_related = ["review", "review__app", "author"]
    raw_id_fields = ["review", "author"]
    readonly_fields = ["review", "author", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False


class OpenReportFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open"), ("resolved", "Resolved")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "resolved":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(AbuseReport)
class AbuseReportAdmin(admin.ModelAdmin):
    """Reports per app: filter by app (``?app__id__exact=<uuid>``, the link in the staff email), reason, state."""

    list_display = [
        "app",
        "app_status",
        "open_reports_for_app",
        "reason",
        "reporter",
        "created_at",
        "resolved_at",
    ]
    list_filter = [OpenReportFilter, "reason", "app__status", "created_at"]
    search_fields = ["app__package_id", "app__name", "reporter__email", "comment"]
    list_select_related = ["app", "reporter"]
    raw_id_fields = ["app", "reporter"]
    readonly_fields = ["app", "reporter", "reason", "comment", "created_at", "updated_at", "resolved_at"]
    actions = ["mark_resolved", "disable_apps", "suspend_apps", "restore_apps"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # every field is read-only: reports change only through the actions below

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _open_for_app=Count(
                    "app__abuse_reports",
                    filter=Q(app__abuse_reports__resolved_at__isnull=True),
                    distinct=True,
                )
            )
        )

    @admin.display(description="App status", ordering="app__status")
    def app_status(self, obj):
        return obj.app.get_status_display()

    @admin.display(description="Open reports on app", ordering="_open_for_app")
    def open_reports_for_app(self, obj):
        return obj._open_for_app

    @admin.action(description="Mark selected reports resolved")
    def mark_resolved(self, request, queryset):
        count = abuse.abuse_reports_resolve(reports=queryset)
        self.message_user(request, f"{count} report(s) resolved.", messages.SUCCESS)

    def _set_status(self, request, queryset, to: str, label: str) -> bool:
        app_ids = set(queryset.values_list("app_id", flat=True))
        try:
            changed = abuse.abuse_apps_set_status(app_ids=app_ids, to=to, actor=request.user)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return False
        self.message_user(request, f"{changed} app(s) {label}.", messages.SUCCESS)
        return True

    @admin.action(description="Disable the reported apps (devices turn them off)")
    def disable_apps(self, request, queryset):
        self._set_status(request, queryset, AppStatus.DISABLED, "disabled")

    @admin.action(description="Suspend the reported apps (hidden)")
    def suspend_apps(self, request, queryset):
        self._set_status(request, queryset, AppStatus.SUSPENDED, "suspended")

    @admin.action(description="Put the reported apps back to published and resolve their reports")
    def restore_apps(self, request, queryset):
        app_ids = set(queryset.values_list("app_id", flat=True))
        if self._set_status(request, queryset, AppStatus.PUBLISHED, "restored to published"):
            abuse.abuse_reports_resolve(reports=AbuseReport.objects.filter(app_id__in=app_ids))


@admin.register(DeviceApp)
class DeviceAppAdmin(admin.ModelAdmin):
    list_display = ["device", "package_id", "version_code", "reported_at"]
    search_fields = ["package_id", "device__id"]
    list_select_related = ["device"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
