from django.db import models

# Re-exported for the store's modules that read it from here; the write side imports it from mosis.core.
from mosis.core.mosis_version import mosis_version_number  # noqa: F401


class VersionStatus(models.TextChoices):
    UPLOADING = "uploading", "Uploading"
    VALIDATING = "validating", "Validating"
    DRAFT = "draft", "Draft"
    REVIEW = "review", "In review"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"


S = VersionStatus
# SPEC §6, the only allowed moves; anything else is a 409 naming the current state.
VERSION_TRANSITIONS = {
    S.UPLOADING: {S.VALIDATING},
    S.VALIDATING: {S.DRAFT, S.REJECTED},
    S.DRAFT: {S.REVIEW},
    S.REVIEW: {S.APPROVED, S.REJECTED},
    S.APPROVED: {S.PUBLISHED},
    S.REJECTED: {S.VALIDATING},  # a developer retries validation after an INTERNAL failure
    S.PUBLISHED: set(),
}
DELETABLE_STATUSES = {S.UPLOADING, S.VALIDATING, S.DRAFT, S.REJECTED, S.REVIEW, S.APPROVED}


class ReviewFlag(models.TextChoices):
    """What makes a version in the queue worth a closer look (computed at read time, see
    ``versions.selectors.review_flags``)."""

    FIRST_VERSION = "first_version", "First version of a new app"
    NEW_SENSITIVE_PERMISSIONS = "new_sensitive_permissions", "New sensitive permissions"
    NEW_DEPENDENCIES = "new_dependencies", "New dependencies"
    LARGE_SIZE_CHANGE = "large_size_change", "Large size change"
    ABUSE_REPORTS = "abuse_reports", "Abuse reports on the app"
    FIRST_SUBMISSION = "first_submission", "Developer's first submission"


class ReviewDecision(models.TextChoices):
    APPROVE = "approve", "Approve"
    REJECT = "reject", "Reject"


class DiffStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a worker"
    RUNNING = "running", "Being computed"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class FileChange(models.TextChoices):
    ADDED = "added", "Added"
    REMOVED = "removed", "Removed"
    CHANGED = "changed", "Changed"


class FileKind(models.TextChoices):
    TEXT = "text", "Text"
    BINARY = "binary", "Binary"
    UNREADABLE = "unreadable", "Unreadable"
    UNKNOWN = "", "Not read"


# Versions whose package diff is worth computing: validated, not yet decided for good.
DIFFABLE_STATUSES = {S.DRAFT, S.REVIEW, S.APPROVED}
