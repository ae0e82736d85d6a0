"""Canned responses: staff write and order the reasons that fill a decision's notes."""

from __future__ import annotations

from django.contrib import admin

from ..models import CannedResponse


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    """Any active staff member may edit them: they are the review team's shared wording."""

    list_display = ["title", "decision", "position", "active", "updated_at"]
    list_editable = ["position", "active"]
    list_filter = ["decision", "active"]
    search_fields = ["title", "body"]
    fields = ["title", "decision", "body", "position", "active"]

    def _staff(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self._staff(request)

    def has_view_permission(self, request, obj=None):
        return self._staff(request)

    def has_add_permission(self, request):
        return self._staff(request)

    def has_change_permission(self, request, obj=None):
        return self._staff(request)

    def has_delete_permission(self, request, obj=None):
        return self._staff(request)
