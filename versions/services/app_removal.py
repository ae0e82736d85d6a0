"""Deleting an app: a rule of versions (what a published version is, where the packages are stored), so it
lives here, above apps; the App's own part (row, reserved package id, audit, catalog) is
``apps.services.app_remove``."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q

from apps.models import App
from apps.services import PUBLISHED_APP_NOT_DELETABLE, app_remove
from mosis.core import storage
from mosis.core.errors import ApplicationError, ErrorCode

from ..constants import VersionStatus
from ..models import AppVersion

logger = logging.getLogger("mosis.versions")


def app_delete(*, app: App, actor) -> None:
    """Delete an app that never had a published version (409 otherwise), with its versions; their stored
    packages and icons are removed after commit. Records ``app.deleted`` (kept for staff: it has no app).

    Holds the app's row lock from the check to the delete, so a version cannot be published in between
    (publishing locks the app too, ``apps.services.app_mark_published``)."""
    with transaction.atomic():
        locked = App.objects.select_for_update().get(pk=app.pk)
        versions = AppVersion.objects.filter(app=locked)
        if (
            locked.first_published_at is not None
            or versions.filter(Q(status=VersionStatus.PUBLISHED) | Q(published_at__isnull=False)).exists()
        ):
            raise ApplicationError(ErrorCode.CONFLICT, PUBLISHED_APP_NOT_DELETABLE)
        keys = [
            key
            for keys in versions.values_list("upload_key", "package_key", "icon_key")
            for key in keys
            if key
        ]
        app_id = locked.id
        app_remove(app=locked, actor=actor)

        def remove_stored_objects():
            for key in keys:
                try:
                    storage.delete_object(key)
                except Exception:  # an orphaned object is swept later; the delete itself succeeded
                    logger.exception("could not delete stored object %s of deleted app %s", key, app_id)

        transaction.on_commit(remove_stored_objects)
