"""Store icons: the URL a store client shows for an app, and the packaged icon behind it.

An app's ``icon_url`` (set by its developer) wins. Without one, the store points at the icon packaged in the
version it shows (``AppVersion.icon_key``: validation extracts the package's PNG and stores it), at the
stable URL ``{SITE_URL}/v1/store/apps/<package_id>/versions/<version_code>/icon``. A version's package never
changes once uploaded, so neither does what that URL answers: clients and proxies may keep it for a year,
and a new version brings a new URL. Without either, ``icon_url`` is ``""`` as before.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

from mosis.core import storage
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.siteurl import absolute_url, site_url
from versions.models import AppVersion

ICON_MAX_AGE = 365 * 24 * 3600  # the content behind one version's icon URL never changes
_PLACEHOLDER_PACKAGE = "p.placeholder"
_PLACEHOLDER_CODE = 987654321
_url_templates: dict[tuple, tuple[str, str, str]] = {}


def _url_template() -> tuple[str, str, str]:
    """The absolute icon URL around its package id and version code (what comes before, between and
    after), reverse()d once per site URL, script prefix and URLconf: the catalog builder asks for 100 000."""
    memo_key = (site_url(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    template = _url_templates.get(memo_key)
    if template is None:
        path = reverse("store-version-icon", args=[_PLACEHOLDER_PACKAGE, _PLACEHOLDER_CODE])
        head, rest = absolute_url(path).split(_PLACEHOLDER_PACKAGE, 1)
        middle, tail = rest.split(str(_PLACEHOLDER_CODE), 1)
        template = _url_templates[memo_key] = (head, middle, tail)
    return template


def packaged_icon_url(*, package_id: str, version_code: int) -> str:
    """The absolute URL of the icon packaged in ``package_id``'s version ``version_code``."""
    head, middle, tail = _url_template()
    return f"{head}{package_id}{middle}{version_code}{tail}"


def store_icon_url(
    *, icon_url: str | None, package_id: str, version_code: int | None, icon_key: str | None
) -> str:
    """The ``icon_url`` a store answer shows: the developer's, else the shown version's packaged icon, else ``""``.

    ``version_code``/``icon_key`` are those of the version the answer shows (None without one).
    """
    if icon_url:
        return icon_url
    if version_code is None or not icon_key:
        return ""
    return packaged_icon_url(package_id=package_id, version_code=version_code)


def store_icon_url_for(*, icon_url: str | None, package_id: str, version: AppVersion | None) -> str:
    """``store_icon_url`` for a shown ``version`` object (None without one)."""
    return store_icon_url(
        icon_url=icon_url,
        package_id=package_id,
        version_code=version.version_code if version is not None else None,
        icon_key=version.icon_key if version is not None else None,
    )


def store_icon_version(*, package_id: str, version_code: int) -> AppVersion:
    """The published version (yanked ones too, as for downloads) of the reachable app whose packaged icon
    ``GET .../versions/<code>/icon`` serves. 404 ``NOT_FOUND`` for an unknown or hidden app, an unknown or
    unpublished version, or a version without an icon."""
    from store import selectors

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
