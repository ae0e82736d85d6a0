"""The app page's version sections: the app's versions and the reviewers' internal comments, added to the
apps admin (``apps.admin.AppAdmin``) through its composition hook, so apps never imports versions."""

from __future__ import annotations

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from apps.models import App
from mosis.core.admin_inlines import ReadOnlyInlineMixin

from ..models import AppVersion, ReviewComment


class VersionInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = AppVersion
    fields = [
        "version_link",
        "version_code",
        "status",
        "package_size",
        "created_at",
        "published_at",
        "yanked_at",
    ]
    readonly_fields = fields
    ordering = ["-version_code"]
    verbose_name_plural = "versions (newest first)"

    @admin.display(description="version")
    def version_link(self, obj):
        try:
            url = reverse("admin:versions_appversion_change", args=[obj.pk])
        except NoReverseMatch:
            return obj.version_name
        return format_html('<a href="{}">{}</a>', url, obj.version_name)


class ReviewCommentInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ReviewComment
    fields = ["created_at", "author", "version", "body"]
    readonly_fields = fields
    ordering = ["-created_at"]
    verbose_name_plural = "reviewers' internal comments (never sent to the developer)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "version__app")


admin.site.get_model_admin(App).add_inlines(VersionInline, ReviewCommentInline)
