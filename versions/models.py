"""AppVersion: one uploaded package of an app, moving through the review state machine (SPEC §6); and what
the review console keeps beside it: claims, internal comments, canned responses and package diffs."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from mosis.core.models import BaseModel

from .constants import DiffStatus, FileChange, FileKind, ReviewDecision, VersionStatus


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
    dependencies = models.JSONField(default=dict, blank=True)  # package id -> npm range, every dependency
    # The dependencies written in the manifest's object form: package id -> {"optional", "default",
    # "description", "config"} (mosis_package.manifest.dependency_rule); absent: required, no config.
    dependency_rules = models.JSONField(default=dict, blank=True)
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
        # Titles, breadcrumbs and history rows name the app by its package id (select_related("app")).
        return f"{self.app.package_id} {self.version_name} ({self.version_code})"


class ReviewQueueItem(AppVersion):
    """The review console's queue (SPEC §8): versions in ``review``, oldest submission first (admin only)."""

    class Meta:
        proxy = True
        verbose_name = "version in review"
        verbose_name_plural = "versions in review"


class ReviewClaim(models.Model):
    """A reviewer holding a version in review until ``expires_at`` (``REVIEW_CLAIM_MINUTES``), so two
    reviewers do not work on one item. An expired claim is no claim; deciding removes it."""

    version = models.OneToOneField(
        AppVersion, primary_key=True, on_delete=models.CASCADE, related_name="review_claim"
    )
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["reviewer", "expires_at"])]

    def __str__(self):
        return f"{self.version_id} claimed by {self.reviewer_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class ReviewComment(BaseModel):
    """An internal note between reviewers about an app (and the version it was written on).
    Never sent to, nor readable by, the developer."""

    app = models.ForeignKey("apps.App", on_delete=models.CASCADE, related_name="review_comments")
    version = models.ForeignKey(
        AppVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="review_comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField(max_length=5000)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["app", "-created_at"])]

    def __str__(self):
        return f"comment on {self.app_id} at {self.created_at:%Y-%m-%d %H:%M}"


class CannedResponse(BaseModel):
    """A staff-editable reason that fills the notes of a decision (sent to the developer)."""

    title = models.CharField(max_length=100, unique=True)
    body = models.TextField(max_length=5000)
    decision = models.CharField(
        max_length=10,
        choices=ReviewDecision.choices,
        blank=True,
        help_text="Offered with this decision only (blank: with both).",
    )
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "title"]

    def __str__(self):
        return self.title


class PackageDiff(BaseModel):
    """What changed in a version's package since the app's last published version (``base_version``),
    computed by ``versions.tasks.package_diff_task`` after validation and stored file by file."""

    version = models.OneToOneField(AppVersion, on_delete=models.CASCADE, related_name="package_diff")
    base_version = models.ForeignKey(
        AppVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=DiffStatus.choices, default=DiffStatus.PENDING)
    error = models.TextField(blank=True)
    manifest_changes = models.JSONField(default=list, blank=True)
    files_added = models.PositiveIntegerField(default=0)
    files_removed = models.PositiveIntegerField(default=0)
    files_changed = models.PositiveIntegerField(default=0)
    files_unchanged = models.PositiveIntegerField(default=0)
    old_uncompressed = models.BigIntegerField(default=0)
    new_uncompressed = models.BigIntegerField(default=0)
    requested_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self):
        return f"diff of {self.version_id} ({self.status})"


class PackageDiffFile(models.Model):
    """One file that differs, in the order a reviewer reads them (manifest first, then by path)."""

    diff = models.ForeignKey(PackageDiff, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveIntegerField()
    path = models.CharField(max_length=1024)
    change = models.CharField(max_length=10, choices=FileChange.choices)
    kind = models.CharField(max_length=10, choices=FileKind.choices, blank=True)
    old_size = models.BigIntegerField(null=True, blank=True)
    new_size = models.BigIntegerField(null=True, blank=True)
    old_sha256 = models.CharField(max_length=64, blank=True)
    new_sha256 = models.CharField(max_length=64, blank=True)
    diff_text = models.TextField(blank=True)
    diff_truncated = models.BooleanField(default=False)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["diff", "position"], name="uniq_diff_file_position")]

    def __str__(self):
        return f"{self.change} {self.path}"
