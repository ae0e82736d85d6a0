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
