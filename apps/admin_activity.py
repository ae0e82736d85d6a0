"""The one history in the admin: every admin whose objects have activity events shows them — in words — in
its History view and its inlines, instead of Django's ``LogEntry`` (which the services never write: a
status changed by an action, the API or ``manage.py`` would be missing from it)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.text import capfirst

from .activity import describe_event
from .models import ActivityEvent

HISTORY_PAGE_SIZE = 100


class ActivityHistoryMixin:
    """A ``ModelAdmin`` mixin: the History button lists ``history_events(obj)``, newest first."""

    def history_events(self, obj) -> QuerySet[ActivityEvent]:
        raise TypeError(f"{type(self).__name__} must say which events are an object's history")

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404(f"No {self.opts.verbose_name} with this id.")
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        events = (
            self.history_events(obj).select_related("actor", "app", "version__app").order_by("-created_at")
        )
        page = Paginator(events, HISTORY_PAGE_SIZE).get_page(request.GET.get("p"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"History of {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "page_obj": page,
            "events": [(event, describe_event(event)) for event in page],
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/activity_history.html", context)


class EventDetailsMixin:
    """``details`` for inlines and admins showing events: the sentence, not the raw ``data`` dict."""

    @admin.display(description="what happened")
    def details(self, obj):
        return describe_event(obj)
