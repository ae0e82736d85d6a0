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
