"""Admin pieces every app's review-console pages share."""

from __future__ import annotations


class ReadOnlyInlineMixin:
    """An inline that only shows rows: no extra forms, no add, change or delete, no change link."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
