"""Version lifecycle services (SPEC §5–§6): create, upload-complete, submit, review, publish, yank, delete.

``version_transition`` is the one state machine (STYLE §2): every status change goes through it, so the API,
the admin review console and ``manage.py review`` cannot disagree.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import timedelta

import semantic_version
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.constants import AppStatus
from apps.models import App
from apps.policies import can_review_version
from apps.services import activity_record, app_mark_published
from mosis.core import storage
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.signals import send_catalog_changed
from mosis.core.tasks import enqueue_on_commit

from ..constants import DELETABLE_STATUSES, VERSION_TRANSITIONS, ReviewDecision, VersionStatus
from ..models import AppVersion
from .emails import review_decision_email

logger = logging.getLogger("mosis.versions")

PACKAGE_CONTENT_TYPE = "application/octet-stream"
# Apps staff took off the store: no new versions until staff restore them (SPEC §5).
CLOSED_APP_STATUSES = frozenset({AppStatus.DISABLED, AppStatus.SUSPENDED})
MAX_VERSION_CODE = 2**31 - 1

# The activity event (and webhook event name) written when a version reaches each status.
EVENT_BY_STATUS = {
    VersionStatus.VALIDATING: "version.upload_completed",
    VersionStatus.DRAFT: "version.validated",
    VersionStatus.REVIEW: "version.submitted",
    VersionStatus.APPROVED: "version.approved",
    VersionStatus.REJECTED: "version.rejected",
    VersionStatus.PUBLISHED: "version.published",
}
# Timestamp field stamped when a version reaches each status.
TIMESTAMP_BY_STATUS = {
    VersionStatus.VALIDATING: "validation_started_at",
    VersionStatus.REVIEW: "submitted_at",
    VersionStatus.APPROVED: "reviewed_at",
    VersionStatus.PUBLISHED: "published_at",
}


def upload_key_for(*, app_id, version_id) -> str:
    """The only key an upload URL is ever made for."""
    return f"uploads/{app_id}/{version_id}.mpk"


def sealed_key_for(*, app_id, version_id) -> str:
    """Where upload-complete copies the upload to (a new name each time; no URL is ever made for it)."""
    return f"sealed/{app_id}/{version_id}-{secrets.token_hex(8)}.mpk"


def content_key_for(*, sha256: str) -> str:
    """The content-addressed key of a package that passed validation: what downloads serve."""
    return f"sha256/{sha256}.mpk"


def icon_key_for(*, app_id, version_id) -> str:
    return f"apps/{app_id}/{version_id}-icon.png"


def _conflict(version: AppVersion, action: str) -> ApplicationError:
    return ApplicationError(
        ErrorCode.CONFLICT,
        f"Cannot {action}: the version is '{version.status}'.",
        {"status": [f"current state is '{version.status}'"]},
    )


def _lock(version: AppVersion) -> AppVersion:
    return AppVersion.objects.select_for_update().select_related("app__owner").get(pk=version.pk)


def _refresh_in_place(target: AppVersion, source: AppVersion) -> None:
    """Callers keep their object: copy the saved field values back onto it."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))


# --- the one state machine ----------------------------------------------------------------------------
def version_transition(
    *,
    version: AppVersion,
    to: str,
    actor=None,
    notes: str = "",
    changes: dict | None = None,
    notify: bool = True,
) -> AppVersion:
    """Move ``version`` to status ``to`` (SPEC §6).

    Locks the row; 409 CONFLICT naming the current state when the move is not in ``VERSION_TRANSITIONS`` —
    also when the version is already in ``to`` (submit twice, publish twice: SPEC §6; an
    ``Idempotency-Key`` replay is answered from the stored response before this runs). ``changes`` are extra field values saved in the same update (validation
    facts, package size, signature). Writes the activity event, emails the owner after commit when it is a
    reviewer's decision (review → approved / rejected; ``notify=False`` skips it, for the demo seeder) and
    sends ``catalog_changed`` on publication.
    ``version`` is updated in place and returned.
    """
    to = VersionStatus(to)
    with transaction.atomic():
        locked = _lock(version)
        previous = locked.status
        if to not in VERSION_TRANSITIONS[VersionStatus(previous)]:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                f"Cannot move the version to '{to}': its current state is '{previous}'.",
                {"status": [f"current state is '{previous}'"]},
            )
        now = timezone.now()
        fields = {"status": to, **(changes or {})}
        if to in TIMESTAMP_BY_STATUS:
            fields[TIMESTAMP_BY_STATUS[to]] = now
        reviewer_decision = previous == VersionStatus.REVIEW and to in (
            VersionStatus.APPROVED,
            VersionStatus.REJECTED,
        )
        if reviewer_decision:
            fields.update(reviewed_at=now, review_notes=notes, reviewed_by=actor)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*_attnames(fields), "updated_at"])
        activity_record(
            type=EVENT_BY_STATUS[to],
            version=locked,
            app=locked.app,
            actor=actor,
            data={
                "from": previous,
                "to": to,
                "version_code": locked.version_code,
                "version_name": locked.version_name,
                **({"notes": notes} if notes else {}),
            },
        )
        if reviewer_decision and notify:
            version_id = locked.id
            decision = ReviewDecision.APPROVE if to == VersionStatus.APPROVED else ReviewDecision.REJECT
            transaction.on_commit(lambda: _email_owner_decision(version_id=version_id, decision=decision))
        if to == VersionStatus.PUBLISHED:
            send_catalog_changed(app_id=locked.app_id, reason="published")
    _refresh_in_place(version, locked)
    return version


def _attnames(fields: dict) -> list[str]:
    return [AppVersion._meta.get_field(name).name for name in fields]


def _email_owner_decision(*, version_id, decision: str) -> None:
    """The one decision email (``emails.review_decision_email``: notes quoted, the portal link)."""
    review_decision_email(version_id=version_id, decision=decision)


# --- create -----------------------------------------------------------------------------------------------
def version_create(
    *,
    app: App,
    actor,
    version_name: str,
    version_code: int,
    release_notes: str = "",
    size: int | None = None,
) -> tuple[AppVersion, storage.UploadTarget]:
    """Create a version in ``uploading`` and the URL its package is PUT to.

    ``version_name`` must be semver (400); ``version_code`` must exceed every earlier version's of the app
    (409). The app row is locked so concurrent creates serialise; the unique (app, version_code) constraint
    is the last word, so of two concurrent creates with one code exactly one wins and the other gets 409.
    ``size`` (bytes), when given, is bound into the upload URL and checked at upload-complete.
    """
    try:
        semantic_version.Version(version_name)
    except (ValueError, TypeError):
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"'{version_name}' is not a semantic version (e.g. 1.4.0).",
            {"version_name": ["Must be a semantic version such as 1.4.0."]},
        )
    if not 1 <= version_code <= MAX_VERSION_CODE:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "version_code is out of range.",
            {"version_code": [f"Must be between 1 and {MAX_VERSION_CODE}."]},
        )
    if size is not None and size > settings.MAX_PACKAGE_SIZE:
        raise ApplicationError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"Packages may be at most {settings.MAX_PACKAGE_SIZE} bytes.",
            {"size": [f"At most {settings.MAX_PACKAGE_SIZE} bytes."]},
        )
    conflict = ApplicationError(
        ErrorCode.CONFLICT,
        f"version_code {version_code} must be greater than every earlier version's of this app.",
        {"version_code": ["Must be greater than every earlier version_code of this app."]},
    )
    name_taken = ApplicationError(
        ErrorCode.CONFLICT,
        f"This app already has a version named {version_name}: a version name is never reused.",
        {"version_name": ["Already used by another version of this app."]},
    )
    version_id = uuid.uuid4()
    key = upload_key_for(app_id=app.pk, version_id=version_id)
    nonce = secrets.token_hex(16)
    expires_at = timezone.now() + timedelta(seconds=settings.UPLOAD_URL_TTL)
    with transaction.atomic():
        locked_app = App.objects.select_for_update().filter(pk=app.pk).first()
        if locked_app is not None and locked_app.status in CLOSED_APP_STATUSES:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                f"The app is '{locked_app.status}': it accepts no new versions.",
                {"status": [f"current state is '{locked_app.status}'"]},
            )
        highest = AppVersion.objects.filter(app_id=app.pk).aggregate(m=Max("version_code"))["m"]
        if highest is not None and version_code <= highest:
            raise conflict
        if AppVersion.objects.filter(app_id=app.pk, version_name=version_name).exists():
            raise name_taken
        version = AppVersion(
            id=version_id,
            app=app,
            version_name=version_name,
            version_code=version_code,
            release_notes=release_notes or "",
            status=VersionStatus.UPLOADING,
            upload_key=key,
            upload_nonce=nonce,
            declared_size=size,
            upload_expires_at=expires_at,
        )
        try:
            with transaction.atomic():
                version.save(force_insert=True)
        except IntegrityError:  # a concurrent create won the code or the name
            raise conflict
        activity_record(
            type="version.created",
            version=version,
            app=app,
            actor=actor,
            data={"version_code": version_code, "version_name": version_name},
        )
    target = storage.presigned_upload(
        key,
        content_type=PACKAGE_CONTENT_TYPE,
        content_length=size,
        expires=settings.UPLOAD_URL_TTL,
        single_use_id=nonce,
    )
    return version, target


def version_upload_target(*, version: AppVersion) -> storage.UploadTarget:
    """A fresh upload URL for a version still in ``uploading`` (the first one expired or was used).

    Locally only the newest URL works: a new single-use id replaces the old one under the row lock.
    """
    with transaction.atomic():
        locked = _lock(version)
        if locked.status != VersionStatus.UPLOADING:
            raise _conflict(locked, "upload a package")
        locked.upload_nonce = secrets.token_hex(16)
        locked.upload_expires_at = timezone.now() + timedelta(seconds=settings.UPLOAD_URL_TTL)
        locked.save(update_fields=["upload_nonce", "upload_expires_at", "updated_at"])
    _refresh_in_place(version, locked)
    return storage.presigned_upload(
        version.upload_key,
        content_type=PACKAGE_CONTENT_TYPE,
        content_length=version.declared_size,
        expires=settings.UPLOAD_URL_TTL,
        single_use_id=version.upload_nonce,
    )


def _used_upload_url() -> ApplicationError:
    return ApplicationError(
        ErrorCode.CONFLICT,
        "This upload URL was already used or replaced by a newer one: ask for a new upload URL.",
        {"upload_url": ["Used or replaced."]},
    )


def version_upload_check(*, version: AppVersion, single_use_id: str) -> None:
    """409 unless ``version`` is ``uploading`` and ``single_use_id`` is its one live local upload URL."""
    if version.status != VersionStatus.UPLOADING:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            f"The package of this version was already uploaded (the version is '{version.status}'); "
            "packages are immutable: create a new version.",
            {"status": [f"current state is '{version.status}'"]},
        )
    if not single_use_id or version.upload_nonce != single_use_id:
        raise _used_upload_url()


def version_upload_store(*, version_id, single_use_id: str, staged: storage.StagedUpload) -> None:
    """Commit a local upload streamed to ``staged`` as the version's upload object, or discard it.

    Checked under the version's row lock at the moment the bytes would land, not before they were read: the
    version must still be ``uploading`` and ``single_use_id`` its one live URL (used once, then cleared). An
    upload held open while the version was completed, validated or published is refused with 409 and never
    lands. 404 when the version is gone.
    """
    try:
        with transaction.atomic():
            locked = AppVersion.objects.select_for_update().filter(pk=version_id).first()
            if locked is None:
                raise ApplicationError(ErrorCode.NOT_FOUND, "The version of this upload no longer exists.")
            version_upload_check(version=locked, single_use_id=single_use_id)
            if staged.key != locked.upload_key:
                raise _used_upload_url()
            locked.upload_nonce = ""
            locked.save(update_fields=["upload_nonce", "updated_at"])
            staged.commit()  # last: if the rename fails the cleared id rolls back with the transaction
    except BaseException:
        staged.discard()
        raise


# --- upload-complete --------------------------------------------------------------------------------------
def _is_retryable_rejection(version: AppVersion) -> bool:
    """A rejection caused by our side (``INTERNAL``), not by the package or a reviewer."""
    report = version.validation_report or {}
    return version.reviewed_at is None and any(
        (issue or {}).get("code") == "INTERNAL" for issue in report.get("errors", [])
    )


def version_upload_complete(
    *, version: AppVersion, actor, signature: str = "", signing_key_id=None
) -> AppVersion:
    """The package is in storage: take it out of the client's reach, check it and move to ``validating``;
    the validation task is enqueued after commit.

    Under the version's row lock the upload object is copied server-side (S3 ``CopyObject``, a hard link
    locally) to a new ``sealed/...`` key that no upload URL can write, and the upload object is deleted; the
    size checks, validation and (once it passes) the content-addressed copy all read that sealed copy, so a
    later ``PUT`` to a still-valid presigned URL changes nothing anyone reads (SPEC §5).

    Allowed from ``uploading`` and, to retry, from a ``rejected`` version whose report has an ``INTERNAL``
    error (its sealed package is validated again). 409 from any other state, ``validating`` included. 400
    when no object was uploaded or its size differs from the declared one; 413 (and the objects deleted)
    when it is bigger than ``MAX_PACKAGE_SIZE``; 400 when ``signing_key_id`` is not one of the owner's keys
    or was revoked (a key revoked later, while the version waits for validation, is reported by the
    validator).
    """
    from accounts.models import SigningKey

    from ..tasks import validate_version_task

    if signing_key_id and not (signature or "").strip():
        # Naming a key is a claim that the package is signed: an empty signature here is a broken signing
        # step (e.g. a tool that wrote nothing), never a request to upload unsigned.
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "signing_key_id was given without a signature: sign the package and send the base64 signature.",
            {"signature": ["Required when signing_key_id is given."]},
        )
    failure = None
    with transaction.atomic():
        locked = _lock(version)
        retry = locked.status == VersionStatus.REJECTED and _is_retryable_rejection(locked)
        if locked.status != VersionStatus.UPLOADING and not retry:
            raise _conflict(locked, "complete the upload")
        signing_key = None
        if signing_key_id:
            signing_key = SigningKey.objects.filter(pk=signing_key_id, user_id=locked.app.owner_id).first()
            if signing_key is None:
                raise ApplicationError(
                    ErrorCode.VALIDATION_ERROR,
                    "Unknown signing key.",
                    {"signing_key_id": ["Not one of your signing keys."]},
                )
            if signing_key.revoked_at is not None:
                raise ApplicationError(
                    ErrorCode.VALIDATION_ERROR,
                    "This signing key was revoked: sign the package with an active key.",
                    {"signing_key_id": ["Revoked."]},
                )
        changes = {
            "signature": (signature or "").strip(),
            "signing_key": signing_key,
            "signing_key_fingerprint": signing_key.fingerprint if signing_key else "",
            "validation_attempts": 0,
            "validation_running_at": None,
        }
        if not retry:
            sealed, size, failure = _seal_upload(locked)
            if failure is None:
                changes.update(package_key=sealed, package_size=size, upload_nonce="")
        if failure is None:
            version_transition(version=locked, to=VersionStatus.VALIDATING, actor=actor, changes=changes)
            enqueue_on_commit(validate_version_task, str(locked.id))
    if failure is not None:
        raise failure
    _refresh_in_place(version, locked)
    return version


def _seal_upload(locked: AppVersion) -> tuple[str, int | None, ApplicationError | None]:
    """Copy the upload object of ``locked`` (row lock held) to a new sealed key and delete the upload.

    Returns ``(sealed_key, size, None)``, or ``("", None, error)`` with nothing left behind when there is no
    upload, it is too big (the upload is deleted too: storage let it through past the limit) or its size
    differs from the declared one (the version stays ``uploading``; a new upload URL is needed).
    """
    if not locked.upload_key or not storage.object_exists(locked.upload_key):
        return (
            "",
            None,
            ApplicationError(
                ErrorCode.VALIDATION_ERROR,
                "No package has been uploaded for this version yet: PUT it to the upload URL first.",
                {"package": ["Not uploaded."]},
            ),
        )
    sealed = sealed_key_for(app_id=locked.app_id, version_id=locked.id)
    storage.copy_object(locked.upload_key, sealed)
    storage.delete_object(locked.upload_key)
    size = storage.object_size(sealed) or 0  # the sealed copy's size: the upload may be PUT again meanwhile
    error = None
    if size > settings.MAX_PACKAGE_SIZE:
        error = ApplicationError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"The package is {size} bytes; the maximum is {settings.MAX_PACKAGE_SIZE}.",
            {"package": [f"At most {settings.MAX_PACKAGE_SIZE} bytes."]},
        )
    elif size == 0:
        error = ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "The uploaded package is empty: PUT the package to a new upload URL.",
            {"package": ["Empty."]},
        )
    elif locked.declared_size is not None and size != locked.declared_size:
        error = ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"The uploaded package is {size} bytes but {locked.declared_size} were declared: "
            "upload it again to a new upload URL.",
            {"package": ["Size differs from the declared size."]},
        )
    if error is not None:
        storage.delete_object(sealed)
        return "", None, error
    return sealed, size, None


# --- submit / review / publish / yank / delete -----------------------------------------------------------
def version_submit(*, version: AppVersion, actor) -> AppVersion:
    """Owner: a validated ``draft`` goes to the review queue (``submitted_at`` set)."""
    return version_transition(version=version, to=VersionStatus.REVIEW, actor=actor)


REVIEW_DECISIONS = ("approve", "reject")


def version_review(
    *, version: AppVersion, reviewer, decision: str, notes: str = "", notify: bool = True
) -> AppVersion:
    """Staff decide on a version in ``review``: approve or reject (notes required for a rejection).

    FORBIDDEN unless the policy ``can_review_version`` allows it (staff, never on an app they own). With
    ``AUTO_PUBLISH_ON_APPROVAL`` an approved version is published at once.
    """
    if decision not in REVIEW_DECISIONS:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"Unknown decision '{decision}'.",
            {"decision": ["Must be 'approve' or 'reject'."]},
        )
    if not can_review_version(reviewer, version):
        raise ApplicationError(
            ErrorCode.FORBIDDEN,
            "Only staff may review versions, and never a version of an app they own.",
        )
    notes = (notes or "").strip()
    if decision == "reject" and not notes:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "A rejection needs notes telling the developer why.",
            {"notes": ["Required when rejecting."]},
        )
    to = VersionStatus.APPROVED if decision == "approve" else VersionStatus.REJECTED
    with transaction.atomic():
        locked = _lock(version)
        if locked.status != VersionStatus.REVIEW:
            # Deciding is only meaningful in review: repeating a decision is not a silent no-op here.
            raise _conflict(locked, f"{decision} the version")
        version_transition(version=locked, to=to, actor=reviewer, notes=notes, notify=notify)
        if to == VersionStatus.APPROVED and settings.AUTO_PUBLISH_ON_APPROVAL:
            version_publish(version=locked, actor=reviewer)
    _refresh_in_place(version, locked)
    return version


def version_publish(*, version: AppVersion, actor) -> AppVersion:
    """``approved`` → ``published`` (``published_at``); the app becomes published on its first version."""
    with transaction.atomic():
        version_transition(version=version, to=VersionStatus.PUBLISHED, actor=actor)
        app_mark_published(app=version.app, actor=actor)
    return version


def version_yank(*, version: AppVersion, actor) -> AppVersion:
    """Hide a published version from "latest" (``yanked_at``); it stays ``published`` and exact downloads of
    it keep working. Idempotent; 409 for a version that is not published."""
    with transaction.atomic():
        locked = _lock(version)
        if locked.status != VersionStatus.PUBLISHED:
            raise _conflict(locked, "yank the version")
        if locked.yanked_at is None:
            locked.yanked_at = timezone.now()
            locked.save(update_fields=["yanked_at", "updated_at"])
            activity_record(
                type="version.yanked",
                version=locked,
                app=locked.app,
                actor=actor,
                data={"version_code": locked.version_code, "version_name": locked.version_name},
            )
            send_catalog_changed(app_id=locked.app_id, reason="yanked")
    _refresh_in_place(version, locked)
    return version


def version_delete(*, version: AppVersion, actor) -> None:
    """Delete a version that was never published, and its stored objects (after commit). 409 otherwise."""
    with transaction.atomic():
        locked = _lock(version)
        if locked.status not in DELETABLE_STATUSES:
            raise _conflict(locked, "delete the version")
        keys = [k for k in (locked.upload_key, locked.icon_key) if k]
        # A content-addressed package is shared by every version with these exact bytes.
        if locked.package_key and not (
            AppVersion.objects.filter(package_key=locked.package_key).exclude(pk=locked.pk).exists()
        ):
            keys.append(locked.package_key)
        activity_record(
            type="version.deleted",
            app=locked.app,
            actor=actor,
            data={
                "version_id": str(locked.id),
                "version_code": locked.version_code,
                "version_name": locked.version_name,
                "status": locked.status,
            },
        )
        locked.delete()
        transaction.on_commit(lambda: _delete_objects(keys))


def _delete_objects(keys: list[str]) -> None:
    for key in keys:
        try:
            storage.delete_object(key)
        except Exception:  # the row is gone; an orphan object is swept, never a 500
            logger.exception("could not delete stored object %s", key)
