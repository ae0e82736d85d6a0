"""AppVersion: one uploaded package of an app, moving through the review state machine (SPEC §6)."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from mosis.core.models import BaseModel

from .constants import VersionStatus


class AppVersion(BaseModel):
    app = models.ForeignKey("apps.App", on_delete=models.CASCADE, related_name="versions")
    version_name = models.CharField(max_length=64)
    version_code = models.PositiveIntegerField()
    release_notes = models.TextField(blank=True, max_length=10000)
    status = models.CharField(max_length=20, choices=VersionStatus.choices, default=VersionStatus.UPLOADING)
    review_notes = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Package. ``upload_key`` is the only object an upload URL may write (while ``uploading``);
    # ``package_key`` is the immutable copy taken at upload-complete (``sealed/...``) and, once validation
    # passed, the content-addressed ``sha256/<hex>.mpk`` that downloads serve. No URL ever writes it.
    upload_key = models.CharField(max_length=300, blank=True, db_index=True)
    # The id of the one live local upload URL (single use: cleared when its upload is stored).
    upload_nonce = models.CharField(max_length=32, blank=True)
    package_key = models.CharField(max_length=300, blank=True)
    package_size = models.BigIntegerField(null=True, blank=True)
    declared_size = models.BigIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    signature = models.TextField(blank=True)
    signing_key = models.ForeignKey(
        "accounts.SigningKey", null=True, blank=True, on_delete=models.PROTECT, related_name="versions"
    )
    signing_key_fingerprint = models.CharField(max_length=64, blank=True)
    icon_key = models.CharField(max_length=300, blank=True)
    # Facts read from the manifest by validation.
    manifest = models.JSONField(null=True, blank=True)
    validation_report = models.JSONField(null=True, blank=True)
    permissions = models.JSONField(default=list, blank=True)
    sensitive_permissions = models.JSONField(default=list, blank=True)
    dependencies = models.JSONField(default=dict, blank=True)
    languages = models.JSONField(default=list, blank=True)
    min_mosis_version = models.CharField(max_length=32, blank=True)
    max_mosis_version = models.CharField(max_length=32, blank=True)
    min_mosis_num = models.IntegerField(null=True, blank=True)
    max_mosis_num = models.IntegerField(null=True, blank=True)
    requires_restart = models.BooleanField(default=False)
    # Lifecycle timestamps.
    upload_expires_at = models.DateTimeField(null=True, blank=True)
    validation_started_at = models.DateTimeField(null=True, blank=True)  # queued (upload-complete, a requeue)
    # When a worker last began validating it; None while it waits in the queue (the sweeper tells a lost
    # task from a slow one with it).
    validation_running_at = models.DateTimeField(null=True, blank=True)
    # How many times the sweeper re-enqueued a stuck validation (versions.services.MAX_VALIDATION_ATTEMPTS).
    validation_attempts = models.PositiveSmallIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    yanked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-version_code"]
        constraints = [
            # Concurrent creates with one code: the database lets exactly one win (SPEC §5).
            models.UniqueConstraint(fields=["app", "version_code"], name="uniq_version_code_per_app"),
            # npm and crates.io never reuse a name@version: neither do we (SPEC §5).
            models.UniqueConstraint(fields=["app", "version_name"], name="uniq_version_name_per_app"),
            models.CheckConstraint(condition=Q(version_code__gte=1), name="version_code_positive"),
        ]
        indexes = [
            models.Index(fields=["app", "status", "-version_code"]),
            models.Index(fields=["status", "submitted_at"]),  # the review queue, oldest first
            models.Index(fields=["status", "validation_started_at"]),  # the sweeper
        ]

    def __str__(self):
        return f"{self.app_id} {self.version_name} ({self.version_code})"


class ReviewQueueItem(AppVersion):
    """The review console's queue (SPEC §8): versions in ``review``, oldest submission first (admin only)."""

    class Meta:
        proxy = True
        verbose_name = "review queue item"
        verbose_name_plural = "review queue"
