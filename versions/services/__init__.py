"""Version services (writes). Re-exported here: ``from versions.services import version_submit``."""

from .app_removal import app_delete
from .diff import package_diff_compute, package_diff_request
from .emails import review_decision_email, version_portal_url
from .importing import ImportResult, package_import, read_package_manifest
from .lifecycle import (
    PACKAGE_CONTENT_TYPE,
    REVIEW_DECISIONS,
    content_key_for,
    icon_key_for,
    upload_key_for,
    version_create,
    version_delete,
    version_publish,
    version_review,
    version_submit,
    version_transition,
    version_upload_check,
    version_upload_complete,
    version_upload_store,
    version_upload_target,
    version_yank,
)
from .review import (
    review_claim,
    review_claim_release,
    review_comment_add,
    review_decide,
)
from .validation import (
    MAX_VALIDATION_ATTEMPTS,
    StorageUnavailable,
    SweepReport,
    record_validation_result,
    version_validate,
    versions_sweep,
)

__all__ = [
    "MAX_VALIDATION_ATTEMPTS",
    "PACKAGE_CONTENT_TYPE",
    "REVIEW_DECISIONS",
    "ImportResult",
    "StorageUnavailable",
    "SweepReport",
    "app_delete",
    "content_key_for",
    "icon_key_for",
    "package_diff_compute",
    "package_diff_request",
    "package_import",
    "read_package_manifest",
    "record_validation_result",
    "review_claim",
    "review_claim_release",
    "review_comment_add",
    "review_decide",
    "review_decision_email",
    "version_create",
    "version_delete",
    "version_portal_url",
    "version_publish",
    "version_review",
    "version_submit",
    "version_transition",
    "upload_key_for",
    "version_upload_check",
    "version_upload_complete",
    "version_upload_store",
    "version_upload_target",
    "version_validate",
    "version_yank",
    "versions_sweep",
]
