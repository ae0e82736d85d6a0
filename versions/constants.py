from django.db import models


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


def mosis_version_number(value: str | None) -> int | None:
    """ "1.2" / "1.2.3" -> a sortable integer (major*1e6 + minor*1e3 + patch) for SQL range filters."""
    if not value:
        return None
    parts = value.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and len(p) <= 3 for p in parts):
        raise ValueError(f"not a Mosis version: {value!r}")
    nums = [int(p) for p in parts] + [0] * (3 - len(parts))
    return nums[0] * 1_000_000 + nums[1] * 1_000 + nums[2]


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
