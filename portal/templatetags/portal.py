"""Template helpers of the portal pages: how an activity event reads to the developer."""

from django import template

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
