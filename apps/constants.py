from django.db import models

PACKAGE_ID_PATTERN = r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+$"


class AppStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    UNLISTED = "unlisted", "Unlisted"
    PENDING_DISABLE = "pending_disable", "Pending disable"
    SUSPENDED = "suspended", "Suspended"
    DISABLED = "disabled", "Disabled"


# SPEC §6: draft -> published (first version published) <-> unlisted (owner or staff); staff move between
# any of the listed/hidden states.
STAFF_STATES = {
    AppStatus.PUBLISHED,
    AppStatus.UNLISTED,
    AppStatus.PENDING_DISABLE,
    AppStatus.SUSPENDED,
    AppStatus.DISABLED,
}
OWNER_TRANSITIONS = {
    (AppStatus.PUBLISHED, AppStatus.UNLISTED),
    (AppStatus.UNLISTED, AppStatus.PUBLISHED),
}
SYSTEM_TRANSITIONS = {
    (AppStatus.DRAFT, AppStatus.PUBLISHED),  # first version published
    (AppStatus.PUBLISHED, AppStatus.PENDING_DISABLE),  # abuse threshold reached
    (AppStatus.UNLISTED, AppStatus.PENDING_DISABLE),
}
# Statuses whose apps appear in public listings / are reachable by package id.
LISTED_STATUSES = (AppStatus.PUBLISHED,)
REACHABLE_STATUSES = (AppStatus.PUBLISHED, AppStatus.UNLISTED)


class WebhookEvent(models.TextChoices):
    """What a webhook can subscribe to (SPEC §5). Each is an activity event type: the activity log is where
    webhooks fire from (``apps.services.activity_record``)."""

    VERSION_SUBMITTED = "version.submitted", "A version was submitted for review"
    VERSION_APPROVED = "version.approved", "A reviewer approved a version"
    VERSION_REJECTED = "version.rejected", "A version failed validation or a reviewer rejected it"
    VERSION_PUBLISHED = "version.published", "A version was published"
    APP_STATUS_CHANGED = "app.status_changed", "An app's status changed"
    CRASH_NEW = "crash.new", "A crash report opened a new crash group"


WEBHOOK_PING_EVENT = "ping"
