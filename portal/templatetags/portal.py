"""Template helpers of the portal pages: how an activity event reads to the developer."""

import json
import re

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

EVENT_LABELS = {
    "app.created": "App created",
    "app.updated": "Listing edited",
    "app.deleted": "App deleted",
    "app.status_changed": "App status changed",
    "app.max_mosis_version_changed": "Maximum Mosis version set by the store",
    "version.created": "Version created",
    "version.upload_completed": "Package uploaded, validation started",
    "version.validated": "Passed validation",
    "version.submitted": "Submitted for review",
    "version.approved": "Approved by a reviewer",
    "version.published": "Published",
    "version.yanked": "Yanked",
    "version.deleted": "Version deleted",
}


@register.filter
def event_label(event) -> str:
    """A sentence for an ``ActivityEvent``: a rejection says whether validation or a reviewer made it."""
    data = event.data or {}
    if event.type == "version.rejected":
        return "Failed validation" if data.get("from") == "validating" else "Rejected by a reviewer"
    if event.type == "app.status_changed" and data.get("to"):
        return f"App status changed from {data.get('from', '?')} to {data['to']}"
    if event.type == "app.updated" and data.get("fields"):
        return f"Listing edited ({', '.join(data['fields'])})"
    if event.type == "version.deleted" and data.get("version_name"):
        return f"Version {data['version_name']} deleted"
    return EVENT_LABELS.get(event.type, event.type)


@register.filter
def event_actor(event, user) -> str:
    """Who did it, as the developer should read it: you, a reviewer (staff stay anonymous), the store."""
    if event.actor_id is None:
        return "the store"
    if user is not None and event.actor_id == user.pk:
        return "you"
    return "a reviewer" if event.actor.is_staff else "another account"


_HEADING_TAG = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)


def demote_headings(html: str, by: int = 2) -> str:
    """Markdown's ``#`` headings placed under the page's own: h1 → h3 ... (never past h6), so a page keeps
    one h1 and a sane outline. ``html`` is already sanitized; only heading tag names change."""
    return _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + by, 6)}", html or "")


@register.filter(is_safe=True)
def under_page_headings(html: str) -> str:
    """``demote_headings`` for a template (keeps the value's safe-ness)."""
    return mark_safe(demote_headings(str(html)))  # noqa: S308 - sanitized HTML, tag names rewritten only


@register.filter
def pretty_json(value) -> str:
    """A JSON value (a crash report's context) indented for reading; the template escapes it."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
