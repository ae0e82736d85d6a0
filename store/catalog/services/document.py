"""The catalog document (seed 001's daily list): built off the request path, served by ETag.

``catalog_document()`` is the reference shape (``CatalogSerializer`` over model instances) used by
``export_catalog``; the API serves bytes built by ``catalog_build()``, which writes the same JSON from lean
``.values()`` rows in chunks (no model instances, no serializer per app) straight into the body, its gzip
form and its SHA-256, so memory holds the output and one chunk of rows.

Storage, apart from the generation-keyed store cache (``store.catalog.services.cache``):

- ``catalog:f<CATALOG_FORMAT>:meta`` — a small dict (ETag, whether a gzip form exists, the document's
  key): a 304 costs one round trip for this key and never touches the body;
- ``catalog:f<CATALOG_FORMAT>:doc:<etag>`` — ``(body, gzipped, etag)``, fetched only for a 200. The
  previous document stays reachable for ``PREVIOUS_DOC_GRACE`` seconds after a rebuild replaces it.

Changes only mark the document stale (``catalog_mark_stale``): at most one rebuild is pending at a time
(a cache lock taken with ``add()``), enqueued ``CATALOG_REBUILD_DEBOUNCE`` seconds ahead, so a burst of
changes (or a download rollup) costs one rebuild; the previous document is served meanwhile. Only a request
that finds no document at all builds one synchronously (empty cache, tests, embedded mode).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from rest_framework import serializers

from apps.constants import AppStatus
from mosis.core import redis as redis_adapter
from mosis.core.siteurl import absolute_url, site_url
from store.catalog import selectors
from store.catalog.links import store_icon_url
from store.catalog.serializers import CatalogSerializer
from store.http import GZIP_MIN_BYTES, CachedDocument
from store.models import AppListing
from versions.constants import VersionStatus
from versions.models import AppVersion

from .cache import PREFIX

logger = logging.getLogger(__name__)

CHUNK = 2000  # listing rows per chunk (and per installable-versions query)
PREVIOUS_DOC_GRACE = 120  # seconds a replaced document stays fetchable for requests that read the old meta
SYNC_BUILD_WAIT = 60  # seconds a request waits for another request's first build before building itself
# The document's format, in every catalog key: a release that changes the catalog's fields bumps it, so
# its servers find no document of the old format and build one (once, under the first-build lock)
# instead of serving the old one until the next change. 2: icon_url falls back to the packaged icon.
# 3: URL templates, and source, repository, published_at, checksum and size on every app.
CATALOG_FORMAT = 3
_CATALOG = f"{PREFIX}:catalog:f{CATALOG_FORMAT}"
_META = f"{_CATALOG}:meta"
_REBUILD_LOCK = f"{_CATALOG}:rebuild-pending"
_FIRST_BUILD_LOCK = f"{_CATALOG}:first-build"


def _doc_key(etag: str) -> str:
    return f"{_CATALOG}:doc:{etag.strip(chr(34))}"


_TEMPLATE_PACKAGE = "p.placeholder"
_TEMPLATE_CODE = 987654321


def catalog_url_templates() -> dict[str, str]:
    """Seed 001's URL templates: where to download a version, read an app's details and fetch a version's
    packaged icon, as absolute URLs (``mosis.core.siteurl``: ``SITE_URL``, else the host of the request that
    built the document) with ``{package_id}`` and ``{version_code}`` to fill in (RFC 6570 level 1)."""

    def template(name: str, *args) -> str:
        url = absolute_url(reverse(name, args=args))
        return url.replace(_TEMPLATE_PACKAGE, "{package_id}").replace(str(_TEMPLATE_CODE), "{version_code}")

    return {
        "download_url_template": template("store-version-download", _TEMPLATE_PACKAGE, _TEMPLATE_CODE),
        "detail_url_template": template("store-app", _TEMPLATE_PACKAGE),
        "icon_url_template": template("store-version-icon", _TEMPLATE_PACKAGE, _TEMPLATE_CODE),
    }


def catalog_document() -> dict:
    """Every listed app (and disabled ones, flagged) with what an extension manager needs; JSON-ready."""
    listings = selectors.attach_shown_versions(list(selectors.catalog_listings()))
    return CatalogSerializer(
        {
            "generated_at": timezone.now(),
            "count": len(listings),
            **catalog_url_templates(),
            "apps": listings,
        }
    ).data


# --- the fast builder ----------------------------------------------------------------------------------
_LISTING_FIELDS = (
    "app_id",
    "package_id",
    "name",
    "app__description",
    "category_id",
    "category__slug",
    "app__tags",
    "app__icon_url",
    "author_name",
    "latest_version_id",
    "latest_version__version_name",
    "latest_version__version_code",
    "latest_version__requires_restart",
    "latest_version__languages",
    "latest_version__permissions",
    "latest_version__dependencies",
    "latest_version__dependency_rules",
    "latest_version__min_mosis_version",
    "latest_version__max_mosis_version",
    "latest_version__icon_key",
    "latest_version__published_at",
    "latest_version__sha256",
    "latest_version__package_size",
    "type",
    "source",
    "app__repository",
    "downloads_total",
    "downloads_recent",
    "rating_sum",
    "rating_count",
    "app__created_at",
    "app__updated_at",
    "app__homepage_url",
    "app__support_url",
    "ratings_1",
    "ratings_2",
    "ratings_3",
    "ratings_4",
    "ratings_5",
    "last_published_at",
    "app__requires_restart",
    "app__max_mosis_version_override",
    "listed",
    "app__status",
)
_VERSION_FIELDS = (
    "app_id",
    "version_name",
    "version_code",
    "published_at",
    "min_mosis_version",
    "max_mosis_version",
    "dependencies",
    "dependency_rules",
)


def _catalog_rows():
    """The catalog's listing rows (same filter and order as ``selectors.catalog_listings``), as dicts."""
    return (
        AppListing.objects.filter(
            Q(listed=True) | Q(app__status=AppStatus.DISABLED, latest_version__isnull=False)
        )
        .order_by("package_id")
        .values(*_LISTING_FIELDS)
    )


def _installable_by_app(app_ids: list) -> dict:
    rows = (
        AppVersion.objects.filter(app_id__in=app_ids, status=VersionStatus.PUBLISHED, yanked_at__isnull=True)
        .order_by("app_id", "-version_code")
        .values_list(*_VERSION_FIELDS)
    )
    found: dict = {}
    for row in rows:
        found.setdefault(row[0], []).append(row)
    return found


def _str_or_none(value):
    return None if value is None else str(value)


def _str_dict(value):
    if value is None:
        return None
    return {str(k): (None if v is None else str(v)) for k, v in value.items()}


def _entry(row: dict, versions: list, dt) -> dict:
    """One app exactly as ``CatalogEntrySerializer`` renders it (same keys, order and conversions)."""
    has_version = row["latest_version_id"] is not None
    tags = row["app__tags"]
    return {
        "package_id": _str_or_none(row["package_id"]),
        "name": _str_or_none(row["name"]),
        "description": _str_or_none(row["app__description"]),
        "category": row["category__slug"] if row["category_id"] else None,
        "tags": None if tags is None else [_str_or_none(t) for t in tags],
        "icon_url": store_icon_url(
            icon_url=row["app__icon_url"],
            package_id=row["package_id"],
            version_code=row["latest_version__version_code"] if has_version else None,
            icon_key=row["latest_version__icon_key"] if has_version else None,
        ),
        "author_name": _str_or_none(row["author_name"]),
        "latest_version": row["latest_version__version_name"] if has_version else None,
        "version_code": row["latest_version__version_code"] if has_version else None,
        "type": _str_or_none(row["type"]),
        "download_count": row["downloads_total"],
        "downloads_recent": row["downloads_recent"],
        "rating": round(row["rating_sum"] / row["rating_count"], 2) if row["rating_count"] else None,
        "rating_count": row["rating_count"],
        "created_at": dt(row["app__created_at"]),
        "updated_at": dt(row["app__updated_at"]),
        "source": _str_or_none(row["source"]),
        "repository": _str_or_none(row["app__repository"]),
        "published_at": dt(row["latest_version__published_at"]) if has_version else None,
        "checksum": f"sha256:{row['latest_version__sha256']}" if has_version else None,
        "size": (row["latest_version__package_size"] or 0) if has_version else None,
        "homepage_url": _str_or_none(row["app__homepage_url"]),
        "support_url": _str_or_none(row["app__support_url"]),
        "ratings": [row["ratings_1"], row["ratings_2"], row["ratings_3"], row["ratings_4"], row["ratings_5"]],
        "downloads_total": row["downloads_total"],
        "last_published_at": dt(row["last_published_at"]),
        "requires_restart": bool(
            row["app__requires_restart"] or (has_version and row["latest_version__requires_restart"])
        ),
        "languages": list(row["latest_version__languages"] or []) if has_version else [],
        "permissions": list(row["latest_version__permissions"] or []) if has_version else [],
        "dependencies": dict(row["latest_version__dependencies"] or {}) if has_version else {},
        "dependency_rules": dict(row["latest_version__dependency_rules"] or {}) if has_version else {},
        "min_mosis_version": (row["latest_version__min_mosis_version"] or None) if has_version else None,
        "max_mosis_version": (
            (row["app__max_mosis_version_override"] or row["latest_version__max_mosis_version"] or None)
            if has_version
            else None
        ),
        "listed": row["listed"],
        "disabled": row["app__status"] == AppStatus.DISABLED,
        "title": _str_or_none(row["name"]),
        "versions": [
            {
                "version": _str_or_none(name),
                "version_code": code,
                "published_at": dt(published_at),
                "min_mosis_version": min_v or None,
                "max_mosis_version": max_v or None,
                "dependencies": _str_dict(deps),
                "dependency_rules": dict(rules or {}),
            }
            for _, name, code, published_at, min_v, max_v, deps, rules in versions
        ],
        "last_updated": dt(row["last_published_at"]),
    }


class _Sink:
    """Writes JSON text into the identity body, its gzip stream and its SHA-256 at once."""

    def __init__(self):
        self.body = io.BytesIO()
        self.zipped = io.BytesIO()
        self.gzip = gzip.GzipFile(fileobj=self.zipped, mode="wb", compresslevel=6, mtime=0)
        self.sha = hashlib.sha256()

    def write(self, text: str) -> None:
        # Same escaping as DRF's JSONRenderer (U+2028/2029 are not valid in JavaScript strings).
        data = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()
        self.body.write(data)
        self.gzip.write(data)
        self.sha.update(data)

    def document(self) -> CachedDocument:
        self.gzip.close()
        body = self.body.getvalue()
        gzipped = self.zipped.getvalue() if len(body) >= GZIP_MIN_BYTES else None
        return CachedDocument(body=body, gzipped=gzipped, etag=f'"{self.sha.hexdigest()[:40]}"')


def _encoder() -> json.JSONEncoder:
    from rest_framework.utils.encoders import JSONEncoder

    return JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def catalog_build() -> CachedDocument:
    """Render the catalog document from ``.values()`` rows in chunks of ``CHUNK``; same JSON as the serializer.

    Reads one snapshot (REPEATABLE READ on PostgreSQL) so ``count`` matches the apps written after it.
    """
    dt = serializers.DateTimeField().to_representation
    encode = _encoder().encode
    sink = _Sink()
    snapshot = connection.vendor == "postgresql" and not connection.in_atomic_block
    with transaction.atomic():
        if snapshot:  # first statement of the transaction (an enclosing one already fixes what we see)
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        rows = _catalog_rows()
        count = rows.count()
        templates = "".join(f'"{k}":{encode(v)},' for k, v in catalog_url_templates().items())
        sink.write(f'{{"generated_at":{encode(dt(timezone.now()))},"count":{count},{templates}"apps":[')
        first = True
        chunk: list = []

        def flush():
            nonlocal first
            versions = _installable_by_app([row["app_id"] for row in chunk])
            parts = [encode(_entry(row, versions.get(row["app_id"], []), dt)) for row in chunk]
            sink.write(("" if first else ",") + ",".join(parts))
            first = False
            chunk.clear()

        for row in rows.iterator(chunk_size=CHUNK):
            chunk.append(row)
            if len(chunk) >= CHUNK:
                flush()
        if chunk:
            flush()
        sink.write("]}")
    return sink.document()


# --- storage and serving --------------------------------------------------------------------------------
def _store(document: CachedDocument) -> dict:
    meta = {
        "etag": document.etag,
        "gzip": document.gzipped is not None,
        "key": _doc_key(document.etag),
        "base": site_url(),  # the host its absolute URLs name (SITE_URL, else the building request's host)
    }
    previous = cache.get(_META)
    cache.set(meta["key"], (document.body, document.gzipped, document.etag), timeout=None)
    cache.set(_META, meta, timeout=None)
    _meta_memo[:] = [0.0, None]
    if previous and previous.get("key") != meta["key"]:
        cache.touch(previous["key"], PREVIOUS_DOC_GRACE)  # requests holding the old meta can still fetch it
    return meta


def catalog_rebuild() -> dict:
    """Build the document and make it the served one; returns its meta. The pending-rebuild lock is released
    first, so a change committed while this runs schedules the next rebuild."""
    cache.delete(_REBUILD_LOCK)
    started = time.monotonic()
    document = catalog_build()
    meta = _store(document)
    logger.info(
        "catalog rebuilt: %d bytes (%s gzip) in %.1f s",
        len(document.body),
        len(document.gzipped) if document.gzipped else "no",
        time.monotonic() - started,
    )
    return meta


def catalog_mark_stale() -> bool:
    """A listed app changed: schedule one rebuild unless one is already pending. True when one was scheduled.

    The current document keeps being served until the rebuild stores its successor, so catalog contents
    (download counts included) may lag changes by ``CATALOG_REBUILD_DEBOUNCE`` seconds plus the build time.
    """
    try:
        if cache.get(_META) is None and cache.get(_FIRST_BUILD_LOCK) is None:
            return False  # nothing built yet: the first request builds from current rows
        debounce = settings.CATALOG_REBUILD_DEBOUNCE
        timeout = debounce + settings.CELERY_TASK_TIME_LIMIT  # a lost task only delays the next rebuild
        if not cache.add(_REBUILD_LOCK, time.time(), timeout=timeout):
            return False
    except redis_adapter.UNAVAILABLE:  # the change is committed; the catalog is rebuilt on the next one
        logger.warning("cache unavailable: catalog rebuild not scheduled")
        return False
    from store.tasks import catalog_rebuild as task

    try:
        task.apply_async(countdown=debounce)
    except Exception:  # broker down: release so the next change tries again; never fail the writer
        cache.delete(_REBUILD_LOCK)
        logger.exception("could not enqueue the catalog rebuild")
        return False
    return True


_meta_memo: list = [0.0, None]  # [monotonic expiry, meta]: this process's last read of the meta key


def _memo_seconds() -> float:
    return settings.CATALOG_META_MEMO_SECONDS


def catalog_meta() -> dict:
    """The served document's meta (one small cache read, memoised in-process for ``CATALOG_META_MEMO_SECONDS``,
    default 1 s, so another process's rebuild shows here within that); builds synchronously only when there
    is none."""
    seconds = _memo_seconds()
    now = time.monotonic()
    expires, memo = _meta_memo
    if seconds > 0 and memo is not None and expires > now:
        return memo
    meta = cache.get(_META)
    if meta is not None:
        if seconds > 0:
            _meta_memo[:] = [now + seconds, meta]
        return meta
    deadline = time.monotonic() + SYNC_BUILD_WAIT
    while not cache.add(_FIRST_BUILD_LOCK, 1, timeout=SYNC_BUILD_WAIT * 5):
        time.sleep(0.2)  # another request is building the first document: wait for it (bounded)
        meta = cache.get(_META)
        if meta is not None:
            return meta
        if time.monotonic() > deadline:
            break
    try:
        return _store(catalog_build())
    finally:
        cache.delete(_FIRST_BUILD_LOCK)


def catalog_names_another_host(meta: dict) -> bool:
    """True when the stored document's absolute URLs name another host than this request's: only without
    ``SITE_URL``, when one store is reached under several addresses (the embedded server on another port)."""
    return meta.get("base", site_url()) != site_url()


def catalog_for_this_host() -> CachedDocument:
    """The document built for this request's host, not stored (the stored one names another host)."""
    return catalog_build()


def catalog_without_cache() -> CachedDocument:
    """The document built from the database for this request alone: the cache (Redis) is unreachable, so
    nothing can be stored or shared. Slower, but a device gets its catalog during the outage."""
    logger.warning("cache unavailable: catalog built from the database for one request")
    return catalog_build()


def catalog_etags(meta: dict) -> CachedDocument:
    """A body-less stand-in carrying the ETags, enough to decide a 304."""
    return CachedDocument(body=b"", gzipped=b"" if meta["gzip"] else None, etag=meta["etag"])


def catalog_fetch(meta: dict) -> CachedDocument:
    """The full document named by ``meta`` (a 200); rebuilt synchronously if it was evicted."""
    stored = cache.get(meta["key"])
    if stored is None:
        current = cache.get(_META)
        if current and current["key"] != meta["key"]:
            stored = cache.get(current["key"])
    if stored is None:
        document = catalog_build()
        _store(document)
        return document
    return CachedDocument(*stored)
