"""Apps, categories and the activity log."""

from django.conf import settings
from django.db import models

from mosis.core.models import BaseModel

from .constants import AppStatus


class Category(models.Model):
    """Admin-managed (SPEC §5); seeded by ``seed_demo``."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class App(BaseModel):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="apps")
    package_id = models.CharField(max_length=150, unique=True)
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=500, blank=True)
    long_description = models.TextField(blank=True, max_length=20000)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="apps"
    )
    tags = models.JSONField(default=list, blank=True)
    type = models.CharField(max_length=30, default="app", db_index=True)
    status = models.CharField(
        max_length=20, choices=AppStatus.choices, default=AppStatus.DRAFT, db_index=True
    )
    icon_url = models.URLField(max_length=500, blank=True)
    # Seed 004: where the app comes from ("mosis": published here; mirrored registries get their own
    # source) and the source repository the developer points at.
    source = models.CharField(max_length=30, default="mosis", db_index=True)
    repository = models.URLField(max_length=500, blank=True)
    homepage_url = models.URLField(max_length=500, blank=True)
    support_url = models.URLField(max_length=500, blank=True)
    screenshots = models.JSONField(default=list, blank=True)
    requires_restart = models.BooleanField(default=False)
    # Staff-set ceiling on compatibility (seed 001: "Can set the Brackets API max version").
    max_mosis_version_override = models.CharField(max_length=32, blank=True)
    first_published_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["owner", "status"]),
        ]

    def __str__(self):
        return self.package_id


class ReservedPackageId(models.Model):
    """The package id of a deleted app: nobody may create an app with it until staff release it (SPEC §5),
    so a deleted app's users are never handed someone else's package under the name they trusted."""

    package_id = models.CharField(max_length=150, unique=True)
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reserved_at = models.DateTimeField()

    class Meta:
        ordering = ["-reserved_at"]
        verbose_name = "reserved package id"

    def __str__(self):
        return self.package_id


class ActivityEvent(models.Model):
    """The audit trail and the ``/v1/events`` feed (seed 003): one row per state change or decision."""

    id = models.UUIDField(primary_key=True, editable=False)
    type = models.CharField(max_length=50)
    app = models.ForeignKey(App, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    version = models.ForeignKey(
        "versions.AppVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["app", "-created_at"]),
            models.Index(fields=["type", "-created_at"]),
        ]

    def __str__(self):
        return f"{self.type} {self.created_at:%Y-%m-%d %H:%M}"


class Webhook(BaseModel):
    """A developer's endpoint for events of their apps (SPEC §5 Webhooks; docs/api/webhooks.md).

    The secret signs every delivery, so it must be readable: it is stored encrypted with a key derived from
    ``SECRET_KEY`` (``apps.webhooks.secrets``) and shown once, at creation. A webhook that keeps failing for a
    day is disabled (``disabled_at``) and its owner emailed; a successful ping enables it again.
    """

    owner = models.ForeignKey(  # indexed by (owner, -created_at)
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks", db_index=False
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    secret_encrypted = models.TextField()
    is_active = models.BooleanField(default=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # First failure since the last success: a day of failures disables the webhook.
    failing_since = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="webhook_owner_created")]

    def __str__(self):
        return self.url


class WebhookDelivery(BaseModel):
    """One event sent (or to be sent) to one webhook; its attempts are ``WebhookAttempt`` rows.

    ``pending`` deliveries are due at ``next_attempt_at``; a worker claims one by setting ``lease_until``, so
    a delivery enqueued twice (after commit and by the retry sweeper) is still sent once at a time. The body
    is fixed when the event fires (``payload``), so every attempt sends the same bytes.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event = models.CharField(max_length=50)
    # The activity event it reports (None for a ping): one delivery per (webhook, activity event).
    activity_event = models.ForeignKey(
        ActivityEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["webhook", "activity_event"], name="uniq_webhook_delivery_per_event"
            ),
        ]
        indexes = [
            models.Index(fields=["webhook", "-created_at"], name="webhook_delivery_listing"),
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=models.Q(status="pending"),
            ),
        ]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.event} → {self.webhook_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: what the receiver answered (or why nothing was sent), and how long."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)  # the first WEBHOOK_RESPONSE_EXCERPT characters
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="uniq_webhook_attempt_number"),
        ]

    def __str__(self):
        return f"#{self.number} {self.status_code or self.error}"
