"""Absolute links the store's documents carry: an app's icon URL (the developer's, else the icon packaged in
the shown version, at a stable per-version URL). Pure: no queries, no storage; serializers and services use it.

A version's package never changes once uploaded, so neither does what its icon URL answers: clients and
proxies may keep it for a year (``ICON_MAX_AGE``), and a new version brings a new URL.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

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
