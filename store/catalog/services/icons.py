"""Store icons: the packaged icon behind an app's icon URL (the URL itself: ``store.catalog.links``).

Validation extracts the package's PNG and stores it (``AppVersion.icon_key``);
``GET /v1/store/apps/<package_id>/versions/<version_code>/icon`` serves it.
"""

from __future__ import annotations

from mosis.core import storage
from mosis.core.errors import ApplicationError, ErrorCode
from store.catalog import selectors
from versions.models import AppVersion


def store_icon_version(*, package_id: str, version_code: int) -> AppVersion:
    """The published version (yanked ones too, as for downloads) of the reachable app whose packaged icon
    ``GET .../versions/<code>/icon`` serves. 404 ``NOT_FOUND`` for an unknown or hidden app, an unknown or
    unpublished version, or a version without an icon."""
    app = selectors.listed_app_for_package(package_id)  # 404 "App not found."
    version = selectors.version_for_download(app=app, version_code=version_code)  # 404 "Version not found."
    if not version.icon_key:
        raise ApplicationError(ErrorCode.NOT_FOUND, "This version has no icon.")
    return version


def read_icon(version: AppVersion) -> bytes:
    """The PNG bytes of ``version``'s packaged icon (validation bounded their size); 404 when the stored
    object is gone."""
    if storage.object_size(version.icon_key) is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, "This version has no icon.")
    with storage.open_stream(version.icon_key) as handle:
        return handle.read()
