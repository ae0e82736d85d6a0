"""App services (writes). ``activity_record`` is the one way to write the audit trail / ``/v1/events`` feed;
``app_set_status`` is the one way an app changes state (SPEC §6)."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.mosis_version import mosis_version_number
from mosis.core.signals import send_catalog_changed

from .constants import OWNER_TRANSITIONS, STAFF_STATES, SYSTEM_TRANSITIONS, AppStatus
from .models import ActivityEvent, App, ReservedPackageId
from .policies import can_manage_app, can_set_app_status

logger = logging.getLogger("mosis.apps")


def activity_record(
    *, type: str, app=None, version=None, actor=None, data: dict | None = None
) -> ActivityEvent:
    """Append one activity event (call inside the transaction of the change it records).

    The one place webhooks fire from: an event of a webhook type (``WebhookEvent``) queues a delivery for each
    subscribed webhook of the app's owner, in this transaction, sent through Celery after it commits.
    """
    from .webhooks.services import webhook_event_fire

    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = ActivityEvent.objects.create(
        id=uuid.uuid4(),
        type=type,
        app=app if app is not None else (version.app if version is not None else None),
        version=version,
        actor=actor,
        data=data or {},
        created_at=timezone.now(),
    )
    webhook_event_fire(event=event)
    return event


def _status_change_allowed(*, app: App, current: str, to: str, actor, system: bool) -> None:
    """Raise FORBIDDEN / CONFLICT unless ``actor`` (or the system) may move ``app`` from ``current`` to ``to``.

    - system: the transitions of ``SYSTEM_TRANSITIONS`` (first publication, abuse threshold);
    - staff (policy ``can_set_app_status``): any move among ``STAFF_STATES``;
    - owner: ``OWNER_TRANSITIONS`` only (published ⇄ unlisted).
    """
    conflict = ApplicationError(
        ErrorCode.CONFLICT,
        f"Cannot change the app's status to '{to}': its current state is '{current}'.",
        {"status": [f"current state is '{current}'"]},
    )
    if system:
        if (current, to) in SYSTEM_TRANSITIONS:
            return
        raise conflict
    if can_set_app_status(actor):
        if current in STAFF_STATES and to in STAFF_STATES:
            return
        raise conflict
    if can_manage_app(actor, app):
        if (current, to) in OWNER_TRANSITIONS:
            return
        if current in STAFF_STATES and to in STAFF_STATES:
            raise ApplicationError(
                ErrorCode.FORBIDDEN, f"Only staff can change an app from '{current}' to '{to}'."
            )
        raise conflict
    raise ApplicationError(ErrorCode.FORBIDDEN, "You may not change this app's status.")


def _email_owner_status_changed(*, app_id, previous: str, to: str, reason: str) -> None:
    app = App.objects.select_related("owner").filter(pk=app_id).first()
    if app is None or not app.owner.email:
        return
    body = f"The status of your app {app.name} ({app.package_id}) changed from '{previous}' to '{to}'."
    if reason:
        body += f"\n\nReason: {reason}"
    try:
        send_mail(
            subject=f"[{settings.SITE_NAME}] {app.package_id} is now {to}",
            message=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=[app.owner.email],
        )
    except Exception:  # the change is committed; a mail outage must not turn it into a 500
        logger.exception("status-change email for app %s failed", app_id)


def app_set_status(*, app: App, to: str, actor=None, reason: str = "", system: bool = False) -> App:
    """Move ``app`` to status ``to`` (SPEC §6) — the one App state machine.

    Locks the row (``select_for_update``); already there is a 409 CONFLICT for a person (unlist twice: SPEC
    §6) and a no-op for the system (a repeated automatic move); otherwise checks the transition
    (``system=True`` for automatic ones: draft→published on first publication, abuse → pending_disable),
    saves only the changed fields, records ``app.status_changed``, sends ``catalog_changed`` after commit and,
    when staff made the change or abuse reports hid the app, emails the owner after commit. Raises ``ApplicationError`` VALIDATION_ERROR
    (unknown status), FORBIDDEN or CONFLICT (message names the current state). ``app`` is updated in place.
    """
    if to not in AppStatus.values:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"'{to}' is not an app status.",
            {"status": [f"Must be one of: {', '.join(AppStatus.values)}."]},
        )
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        current = locked.status
        if current == to:
            if not system:
                raise ApplicationError(
                    ErrorCode.CONFLICT,
                    f"The app is already '{current}'.",
                    {"status": [f"current state is '{current}'"]},
                )
            app.status, app.status_changed_at = locked.status, locked.status_changed_at
            return app
        _status_change_allowed(app=locked, current=current, to=to, actor=actor, system=system)
        now = timezone.now()
        locked.status = to
        locked.status_changed_at = now
        fields = ["status", "status_changed_at", "updated_at"]
        if to == AppStatus.PUBLISHED and locked.first_published_at is None:
            locked.first_published_at = now
            fields.append("first_published_at")
        locked.save(update_fields=fields)
        activity_record(
            type="app.status_changed",
            app=locked,
            actor=actor,
            data={"from": current, "to": to, "reason": reason},
        )
        send_catalog_changed(app_id=locked.id, reason="status")
        # The owner hears of every change they did not make: a staff decision, or the store hiding the app
        # after abuse reports (system draft->published is the owner's own publish and needs no email).
        staff_change = not system and can_set_app_status(actor) and actor.pk != locked.owner_id
        if staff_change or (system and to == AppStatus.PENDING_DISABLE):
            app_id = locked.id
            transaction.on_commit(
                lambda: _email_owner_status_changed(app_id=app_id, previous=current, to=to, reason=reason)
            )
    app.status = locked.status
    app.status_changed_at = locked.status_changed_at
    app.first_published_at = locked.first_published_at
    app.updated_at = locked.updated_at
    return app


def app_mark_published(*, app: App, actor=None) -> App:
    """Called by the version publish service: a draft app becomes ``published`` (``first_published_at`` set);
    a published or unlisted app keeps its status. Always sends ``catalog_changed(reason="published")``."""
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        if locked.status == AppStatus.DRAFT:
            app_set_status(app=app, to=AppStatus.PUBLISHED, actor=actor, system=True)
        elif locked.first_published_at is None:
            locked.first_published_at = timezone.now()
            locked.save(update_fields=["first_published_at", "updated_at"])
            app.first_published_at = locked.first_published_at
        send_catalog_changed(app_id=app.pk, reason="published")
    return app


def app_set_max_mosis_version(*, app: App, value: str, actor) -> App:
    """Staff set (or clear with ``""``) the ceiling on an app's compatible Mosis version (seed 001)."""
    if not can_set_app_status(actor):
        raise ApplicationError(ErrorCode.FORBIDDEN, "Only staff can set an app's max Mosis version.")
    value = (value or "").strip()
    try:
        mosis_version_number(value)
    except ValueError:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"'{value}' is not a Mosis version.",
            {"max_mosis_version": ["Use MAJOR[.MINOR[.PATCH]], each part at most 3 digits."]},
        )
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        previous = locked.max_mosis_version_override
        if previous == value:
            app.max_mosis_version_override = value
            return app
        locked.max_mosis_version_override = value
        locked.save(update_fields=["max_mosis_version_override", "updated_at"])
        activity_record(
            type="app.max_mosis_version_changed",
            app=locked,
            actor=actor,
            data={"from": previous, "to": value},
        )
        send_catalog_changed(app_id=locked.id, reason="metadata")
    app.max_mosis_version_override = value
    app.updated_at = locked.updated_at
    return app


# --- create / update / delete ----------------------------------------------------------------------------

EDITABLE_FIELDS = (
    "name",
    "description",
    "long_description",
    "category",
    "tags",
    "type",
    "homepage_url",
    "support_url",
    "repository",
    "screenshots",
    "icon_url",
    "requires_restart",
)


def _package_id_taken() -> ApplicationError:
    return ApplicationError(
        ErrorCode.CONFLICT,
        "This package_id is already taken.",
        {"package_id": ["An app with this package_id already exists."]},
    )


def _package_id_reserved() -> ApplicationError:
    return ApplicationError(
        ErrorCode.CONFLICT,
        "This package_id belonged to a deleted app and stays reserved; staff can release it.",
        {"package_id": ["Reserved: it belonged to a deleted app."]},
    )


def _new_apps_per_day_check(*, owner) -> None:
    """At most ``MAX_NEW_APPS_PER_DAY`` apps created per developer per UTC day (429 until midnight UTC).

    Deleted apps still count (their ``app.deleted`` events of the day), so create-and-delete does not reset
    the budget. The owner's row is locked so concurrent creations cannot all pass the check."""
    limit = settings.MAX_NEW_APPS_PER_DAY
    now = timezone.now()
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
    created = App.objects.filter(owner=owner, created_at__gte=day_start).count()
    deleted = ActivityEvent.objects.filter(type="app.deleted", actor=owner, created_at__gte=day_start).count()
    if created + deleted >= limit:
        retry_after = int((day_start + timedelta(days=1) - now).total_seconds()) + 1
        raise ApplicationError(
            ErrorCode.RATE_LIMITED,
            f"At most {limit} new apps per developer per day (MAX_NEW_APPS_PER_DAY); "
            "try again after midnight UTC.",
            {"apps": [f"Daily limit of {limit} new apps reached."]},
            headers={"Retry-After": str(retry_after)},
        )


def app_create(*, owner, package_id: str, name: str, **fields) -> App:
    """Create a draft app owned by ``owner``. ``package_id`` is unique across all developers (409 if taken,
    also when two requests race: the database's unique index decides). Records ``app.created``."""
    from django.db import IntegrityError

    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"app_create() got unexpected fields: {sorted(unknown)}")
    if App.objects.filter(package_id=package_id).exists():
        raise _package_id_taken()
    if ReservedPackageId.objects.filter(package_id=package_id).exists():
        raise _package_id_reserved()
    try:
        with transaction.atomic():
            _new_apps_per_day_check(owner=owner)
            app = App.objects.create(owner=owner, package_id=package_id, name=name, **fields)
            activity_record(
                type="app.created", app=app, actor=owner, data={"package_id": package_id, "name": name}
            )
    except IntegrityError:
        raise _package_id_taken()
    return app


def app_update(*, app: App, actor, **fields) -> App:
    """Change an app's metadata (never its status, package_id or owner). Saves and audits only the fields
    that changed (``app.updated`` with their names); sends ``catalog_changed(reason="metadata")``."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"Read-only or unknown field: {', '.join(sorted(unknown))}.",
            {name: ["This field is read-only."] for name in sorted(unknown)},
        )
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        changed = [name for name, value in fields.items() if getattr(locked, name) != value]
        if not changed:
            return locked
        for name in changed:
            setattr(locked, name, fields[name])
        locked.save(update_fields=[*changed, "updated_at"])
        activity_record(type="app.updated", app=locked, actor=actor, data={"fields": sorted(changed)})
        send_catalog_changed(app_id=locked.id, reason="metadata")
    return locked


PUBLISHED_APP_NOT_DELETABLE = "An app with a published version cannot be deleted; unlist it instead."


def app_remove(*, app: App, actor) -> None:
    """The App's part of deleting an app; the entry point is ``versions.services.app_delete``, which first
    refuses an app with a published version and removes its versions' stored objects after commit.

    Refuses (409) an app that was ever published; deletes the row (its versions, and every other row that
    references it, go by cascade); reserves its package id; records ``app.deleted`` (kept for staff: it has
    no app); sends ``catalog_changed(reason="deleted")``."""
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        if locked.first_published_at is not None:
            raise ApplicationError(ErrorCode.CONFLICT, PUBLISHED_APP_NOT_DELETABLE)
        app_id, package_id = locked.id, locked.package_id
        locked.delete()
        ReservedPackageId.objects.create(
            package_id=package_id, previous_owner_id=locked.owner_id, reserved_at=timezone.now()
        )
        activity_record(
            type="app.deleted", actor=actor, data={"app_id": str(app_id), "package_id": package_id}
        )
        send_catalog_changed(app_id=app_id, reason="deleted")


def package_id_release(*, package_id: str, actor) -> None:
    """Staff release the reserved package id of a deleted app so a new app may take it (recorded)."""
    if not can_set_app_status(actor):
        raise ApplicationError(ErrorCode.FORBIDDEN, "Only staff can release a reserved package id.")
    with transaction.atomic():
        deleted, _ = ReservedPackageId.objects.filter(package_id=package_id).delete()
        if not deleted:
            raise ApplicationError(ErrorCode.NOT_FOUND, f"'{package_id}' is not reserved.")
        activity_record(type="app.package_id_released", actor=actor, data={"package_id": package_id})
