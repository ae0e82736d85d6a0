"""The catalog document (seed 001's daily list): a file the worker builds in package storage, served by ETag.

Build (``catalog_rebuild``, run by the Celery task ``store.tasks.catalog_rebuild``): every catalog app is
rendered by ``CatalogEntrySerializer`` in chunks of ``CHUNK`` listings (one query for the rows with their
app, category and latest version, one per chunk for the installable versions), written to a temporary file,
then streamed once more behind the document's head (rendered by ``CatalogSerializer``) into the identity
file, its gzip form and their SHA-256, so memory holds one chunk, never the document. The two files are
stored content-addressed (``catalog/f<CATALOG_FORMAT>/<sha>.json`` and ``.json.gz``) through
``mosis.core.storage`` (local files or S3), and their meta (ETag, keys, sizes, ``generated_at``, S3's own
ETags) goes to the ``CatalogDocument`` row of the base URL the document names. The database, not Redis,
says what is served: a Redis outage changes nothing here.

One document per base URL: ``SITE_URL``, else each host the store is read from (the absolute URLs in the
document name the host a device reached), each built by the worker for that base.

Serving (``store.catalog.views``): ``If-None-Match`` is decided from the row alone (memoised per process for
``CATALOG_META_MEMO_SECONDS``); a 200 streams the local file or, on S3, redirects to a short-lived presigned
URL (``CATALOG_DELIVERY=redirect``, the default) or streams the object (``stream``). No document yet: the
request enqueues one build (at most one pending per base, claimed in the row) and answers 503 with
``Retry-After``; with eager Celery (embedded mode, tests) the enqueued build runs in the calling process, so
the document is there at once.

Changes only mark the documents stale (``catalog_mark_stale``): one rebuild of every base is enqueued
``CATALOG_REBUILD_DEBOUNCE`` seconds ahead unless one is pending, and the current files are served meanwhile.

Deltas (``?since=``): each build compares every app's rendered entry (host-independent digest) with the
previous build's in ``CatalogEntryState`` and records when it changed or left the catalog (tombstones);
``CatalogBuild`` maps served ETags to when they were generated. Both are kept
``CATALOG_DELTA_RETENTION_DAYS``.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Min, Q
from django.urls import reverse
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from mosis.core import storage
from mosis.core.siteurl import absolute_url, request_base, site_url
from store.catalog import selectors
from store.catalog.serializers import CatalogEntrySerializer, CatalogSerializer
from store.http import GZIP_MIN_BYTES, etag_matches
from store.models import AppListing, CatalogBuild, CatalogDocument, CatalogEntryState

logger = logging.getLogger(__name__)

CHUNK = 500  # listings rendered per chunk (and per installable-versions query)
COPY_CHUNK = 1024 * 1024  # bytes per read when assembling and serving the files
# The document's format, in every key and row: a release that changes the catalog's fields bumps it, so the
# served document of the old format is rebuilt (served meanwhile). 4: files in package storage.
CATALOG_FORMAT = 4
# Fields the catalog never shows, left in the database (the listing document alone is kilobytes per app).
_DEFERRED = (
    "listing_document",
    "long_description_html",
    "search_vector",
    "app__long_description",
    "app__screenshots",
)

_TEMPLATE_PACKAGE = "p.placeholder"
_TEMPLATE_CODE = 987654321


def catalog_url_templates() -> dict[str, str]:
    """Seed 001's URL templates: where to download a version, read an app's details and fetch a version's
    packaged icon, as absolute URLs (``mosis.core.siteurl``: ``SITE_URL``, else the base the document is
    built for) with ``{package_id}`` and ``{version_code}`` to fill in (RFC 6570 level 1)."""

    def template(name: str, *args) -> str:
        url = absolute_url(reverse(name, args=args))
        return url.replace(_TEMPLATE_PACKAGE, "{package_id}").replace(str(_TEMPLATE_CODE), "{version_code}")

    return {
        "download_url_template": template("store-version-download", _TEMPLATE_PACKAGE, _TEMPLATE_CODE),
        "detail_url_template": template("store-app", _TEMPLATE_PACKAGE),
        "icon_url_template": template("store-version-icon", _TEMPLATE_PACKAGE, _TEMPLATE_CODE),
    }


# --- rendering (one path: the serializers) -------------------------------------------------------------
def _catalog_rows():
    return selectors.catalog_listings().defer(*_DEFERRED)


def catalog_entries(listings: list[AppListing]) -> list[dict]:
    """The catalog entries of ``listings`` (rows of ``selectors.catalog_listings``), as the API shows them."""
    return CatalogEntrySerializer(selectors.attach_shown_versions(listings), many=True).data


def _rendered_chunks(rows) -> Iterator[list[tuple[str, bytes]]]:
    """``(package_id, entry JSON)`` of every row, ``CHUNK`` rows at a time (versions prefetched per chunk).

    A chunk's model instances reference each other (listing ↔ app through the one-to-one's cache, app ↔
    versions through the prefetch), so they outlive the chunk as cyclic garbage in the oldest generation
    until a full collection (megabytes per chunk of 500 apps, piling up with the catalog's size). Each chunk is therefore collected as soon as it is written, with everything that existed before the
    build frozen (``gc.freeze``) so a collection scans only the chunk's objects.
    """
    renderer = JSONRenderer()
    listings = rows.iterator(chunk_size=CHUNK)
    gc.freeze()
    try:
        while chunk := list(islice(listings, CHUNK)):
            entries = catalog_entries(chunk)
            rendered = [(row.package_id, renderer.render(e)) for row, e in zip(chunk, entries, strict=True)]
            del chunk, entries
            gc.collect()
            yield rendered
    finally:
        gc.unfreeze()


def _head(generated_at: datetime, count: int) -> bytes:
    """The document up to its first app: ``CatalogSerializer`` with no apps, minus the closing ``]}``."""
    data = CatalogSerializer(
        {"generated_at": generated_at, "count": count, **catalog_url_templates(), "apps": []}
    ).data
    rendered = JSONRenderer().render(data)
    assert rendered.endswith(b"[]}")
    return rendered[:-2]


@dataclass
class BuiltFiles:
    """A document rendered to temporary files (removed with ``directory``)."""

    directory: str
    identity: str
    gzipped: str | None
    sha256: str
    size: int
    gzip_size: int
    count: int
    generated_at: datetime
    content: str  # SHA-256 of everything but generated_at: equal means nothing a client reads changed

    @property
    def etag(self) -> str:
        return f'"{self.sha256[:40]}"'

    def cleanup(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def catalog_render(*, track_changes: bool = False) -> BuiltFiles:
    """Render the catalog for the current base URL into temporary files, one chunk in memory at a time.

    With ``track_changes`` each entry's digest is compared with ``CatalogEntryState`` and the apps that
    changed, appeared or left are recorded with this document's ``generated_at``.
    """
    generated_at = timezone.now()
    base = site_url().encode()
    directory = tempfile.mkdtemp(prefix="mosis-catalog-")
    try:
        entries_path = os.path.join(directory, "entries")
        count = 0
        content = hashlib.sha256(JSONRenderer().render(catalog_url_templates()))
        with open(entries_path, "wb") as entries:
            for chunk in _rendered_chunks(_catalog_rows()):
                data = (b"," if count else b"") + b",".join(body for _, body in chunk)
                entries.write(data)
                content.update(data)
                count += len(chunk)
                if track_changes:
                    _record_changes(chunk, base=base, at=generated_at)
        if track_changes:
            _record_removals(at=generated_at)
        built = _assemble(directory, entries_path, _head(generated_at, count), count, generated_at)
        built.content = content.hexdigest()
        return built
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _assemble(directory: str, entries_path: str, head: bytes, count: int, generated_at) -> BuiltFiles:
    """Head + entries + ``]}`` into the identity file, its gzip form and their SHA-256, chunk by chunk."""
    identity = os.path.join(directory, "catalog.json")
    zipped = os.path.join(directory, "catalog.json.gz")
    sha = hashlib.sha256()
    size = 0
    with (
        open(identity, "wb") as out,
        open(zipped, "wb") as raw,
        open(entries_path, "rb") as entries,
        gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz,
    ):

        def write(data: bytes) -> None:
            nonlocal size
            out.write(data)
            gz.write(data)
            sha.update(data)
            size += len(data)

        write(head)
        while data := entries.read(COPY_CHUNK):
            write(data)
        write(b"]}")
    os.unlink(entries_path)
    gzip_size = os.path.getsize(zipped)
    if size < GZIP_MIN_BYTES:
        os.unlink(zipped)
        zipped, gzip_size = None, 0
    return BuiltFiles(directory, identity, zipped, sha.hexdigest(), size, gzip_size, count, generated_at, "")


def _record_changes(chunk: list[tuple[str, bytes]], *, base: bytes, at: datetime) -> None:
    """Record the apps of ``chunk`` whose entry differs from the last build's (two queries, plus writes)."""
    digests = {package_id: hashlib.sha1(body.replace(base, b"")).hexdigest() for package_id, body in chunk}
    known = {
        state.package_id: state for state in CatalogEntryState.objects.filter(package_id__in=list(digests))
    }
    created, updated = [], []
    for package_id, digest in digests.items():
        state = known.get(package_id)
        if state is None:
            created.append(CatalogEntryState(package_id=package_id, digest=digest, changed_at=at))
        elif state.digest != digest or state.removed:
            state.digest, state.changed_at, state.removed = digest, at, False
            updated.append(state)
    CatalogEntryState.objects.bulk_create(created, ignore_conflicts=True)
    if updated:
        CatalogEntryState.objects.bulk_update(updated, ["digest", "changed_at", "removed"])


def _record_removals(*, at: datetime) -> None:
    """Tombstones for the apps that left the catalog since the last build (unlisted, hidden, deleted)."""
    present = selectors.catalog_listings().order_by().values("package_id")
    CatalogEntryState.objects.filter(removed=False).exclude(package_id__in=present).update(
        removed=True, digest="", changed_at=at
    )


# --- storing -------------------------------------------------------------------------------------------
def _keys(sha256: str) -> tuple[str, str]:
    stem = f"catalog/f{CATALOG_FORMAT}/{sha256[:40]}"
    return f"{stem}.json", f"{stem}.json.gz"


def catalog_store(built: BuiltFiles, *, base: str) -> CatalogDocument:
    """Put the rendered files in package storage and make them the served document of ``base``. When their
    content (everything but ``generated_at``) is the served document's, that one stays, with its ETag: a
    rebuild that changed nothing costs a polling client nothing."""
    served = CatalogDocument.objects.filter(
        base_url=base, format=CATALOG_FORMAT, content=built.content
    ).first()
    if served is not None and served.etag:
        built.cleanup()
        return served
    key, gzip_key = _keys(built.sha256)
    storage_etags = []
    try:
        tag = storage.store_file(key, built.identity, content_type="application/json")
        storage_etags.append(tag)
        if built.gzipped:
            tag = storage.store_file(
                gzip_key, built.gzipped, content_type="application/json", content_encoding="gzip"
            )
            storage_etags.append(tag)
    finally:
        built.cleanup()
    current = {key, gzip_key if built.gzipped else ""}
    with transaction.atomic():
        document, _ = CatalogDocument.objects.select_for_update().get_or_create(base_url=base)
        stale_files = [k for k in document.previous_keys if k and k not in current]
        replaced = [k for k in (document.key, document.gzip_key) if k and k not in current]
        document.format = CATALOG_FORMAT
        document.etag = built.etag
        document.key = key
        document.size = built.size
        document.gzip_key = gzip_key if built.gzipped else ""
        document.gzip_size = built.gzip_size
        document.storage_etags = [tag for tag in storage_etags if tag]
        document.count = built.count
        document.content = built.content
        document.generated_at = built.generated_at
        document.previous_keys = replaced  # kept one more build: a redirect or a stream may still read them
        document.save()
        CatalogBuild.objects.create(etag=built.etag, base_url=base, generated_at=built.generated_at)
    for stale in stale_files:  # replaced two builds ago: no presigned URL or stream still reads them
        if stale not in (document.previous_keys + [key, gzip_key]):
            _delete_quietly(stale)
    _meta_memo.pop(base, None)
    return document


def _delete_quietly(key: str) -> None:
    try:
        storage.delete_object(key)
    except storage.STORAGE_ERRORS:
        logger.warning("could not delete the old catalog file %s", key)


def _prune(now: datetime) -> None:
    """Forget builds and tombstones older than the retention (the latest build of each base is kept)."""
    cutoff = now - timedelta(days=settings.CATALOG_DELTA_RETENTION_DAYS)
    current = CatalogDocument.objects.exclude(etag="").values("etag")
    CatalogBuild.objects.filter(generated_at__lt=cutoff).exclude(etag__in=current).delete()
    horizon = catalog_delta_horizon()
    if horizon is not None:
        CatalogEntryState.objects.filter(removed=True, changed_at__lt=horizon).delete()


def catalog_build(base: str) -> CatalogDocument:
    """Render and store the document of ``base`` (the worker's job; also ``manage.py rebuild_catalog``)."""
    started = time.monotonic()
    with request_base(base):
        built = catalog_render(track_changes=True)
    document = catalog_store(built, base=base)
    logger.info(
        "catalog built for %s: %d apps, %d bytes (%d gzip) in %.1f s",
        base,
        document.count,
        document.size,
        document.gzip_size,
        time.monotonic() - started,
    )
    return document


def catalog_rebuild(base: str | None = None) -> list[str]:
    """Build the document of ``base``, or of every base that has one (a change, a new format); returns their
    ETags. A base's pending-build claim is released first, so a change committed meanwhile schedules the
    next build. With ``SITE_URL`` set there is one base, and rows for other hosts are dropped."""
    if settings.SITE_URL:
        CatalogDocument.objects.exclude(base_url=site_url()).delete()
        bases = [site_url()]
    elif base is not None:
        bases = [base]
    else:
        known = CatalogDocument.objects.order_by("base_url").values_list("base_url", flat=True)
        bases = list(known) or [site_url()]  # none yet (an operator's first build): the default base
    etags = []
    for name in bases:
        CatalogDocument.objects.filter(base_url=name).update(build_requested_at=None)
        etags.append(catalog_build(name).etag)
    _prune(timezone.now())
    return etags


# --- scheduling ----------------------------------------------------------------------------------------
def _claimable(now: datetime) -> Q:
    """No build pending, or the pending one is older than a task may run (lost): claim it again."""
    lost = now - timedelta(seconds=settings.CATALOG_REBUILD_DEBOUNCE + settings.CELERY_TASK_TIME_LIMIT)
    return Q(build_requested_at__isnull=True) | Q(build_requested_at__lt=lost)


def _enqueue(*, base: str | None, countdown: int) -> bool:
    from store.tasks import catalog_rebuild as task

    try:
        task.apply_async(kwargs={"base": base}, countdown=countdown)
    except Exception:  # broker down: release the claim so the next change or request tries again
        rows = (
            CatalogDocument.objects.all() if base is None else CatalogDocument.objects.filter(base_url=base)
        )
        rows.update(build_requested_at=None)
        logger.exception("could not enqueue the catalog build")
        return False
    return True


def catalog_mark_stale() -> bool:
    """Something in the catalog changed: schedule one debounced rebuild of every built document, unless one
    is pending. True when one was scheduled. The current documents are served until their successors are
    stored, so the catalog (download counts included) lags changes by the debounce plus the build time."""
    now = timezone.now()
    try:
        claimed = (
            CatalogDocument.objects.exclude(etag="").filter(_claimable(now)).update(build_requested_at=now)
        )
    except DatabaseError:  # the change is committed; the next one schedules the rebuild
        logger.warning("catalog rebuild not scheduled (database unavailable)")
        return False
    if not claimed:
        return False
    return _enqueue(base=None, countdown=settings.CATALOG_REBUILD_DEBOUNCE)


def catalog_request_build(base: str) -> CatalogDocument | None:
    """No document for ``base`` yet: enqueue its build unless one is pending. Returns the document when it
    exists once that returns (eager Celery builds in this process), else None: the caller answers 503."""
    now = timezone.now()
    CatalogDocument.objects.get_or_create(base_url=base)
    claimed = (
        CatalogDocument.objects.filter(base_url=base).filter(_claimable(now)).update(build_requested_at=now)
    )
    if claimed:
        _enqueue(base=base, countdown=0)
    return catalog_meta(base)


# --- serving -------------------------------------------------------------------------------------------
_meta_memo: dict[str, tuple[float, CatalogDocument]] = {}  # base → (monotonic expiry, row)


def catalog_meta(base: str) -> CatalogDocument | None:
    """The served document of ``base`` (one small query, memoised in-process for ``CATALOG_META_MEMO_SECONDS``
    so another process's rebuild shows here within that), or None when none was built yet. A document of an
    older format is served while its rebuild is enqueued."""
    seconds = settings.CATALOG_META_MEMO_SECONDS
    now = time.monotonic()
    memo = _meta_memo.get(base)
    if seconds > 0 and memo is not None and memo[0] > now:
        return memo[1]
    document = CatalogDocument.objects.filter(base_url=base).exclude(etag="").first()
    if document is None:
        return None
    if document.format != CATALOG_FORMAT and document.build_requested_at is None:
        CatalogDocument.objects.filter(pk=document.pk, build_requested_at=None).update(
            build_requested_at=timezone.now()
        )
        _enqueue(base=base, countdown=0)
    if seconds > 0:
        _meta_memo[base] = (now + seconds, document)
    return document


def catalog_etag(document: CatalogDocument, *, gzipped: bool) -> str:
    return f'{document.etag[:-1]}-gzip"' if gzipped else document.etag


def catalog_not_modified(document: CatalogDocument, if_none_match: str | None) -> bool:
    """``If-None-Match`` names this document: our ETag of either form, or S3's ETag of either object."""
    return etag_matches(
        if_none_match,
        document.etag,
        catalog_etag(document, gzipped=True),
        *document.storage_etags,
    )


@dataclass(frozen=True)
class CatalogBody:
    """Where a 200's bytes come from: a presigned URL to redirect to (S3), a local file path, or chunks read
    from S3 as they arrive; never the document in memory."""

    size: int
    gzipped: bool
    redirect_url: str | None = None
    path: str | None = None
    chunks: Iterator[bytes] | None = None


def catalog_body(document: CatalogDocument, *, accepts_gzip: bool) -> CatalogBody | None:
    """The body of a full answer (gzip when accepted and built); None when the local file is gone (the
    document is rebuilt, the caller answers 503)."""
    gzipped = accepts_gzip and bool(document.gzip_key)
    key = document.gzip_key if gzipped else document.key
    size = document.gzip_size if gzipped else document.size
    if storage.is_s3():
        if settings.CATALOG_DELIVERY == "redirect":
            url = storage.presigned_read(key, expires=settings.CATALOG_URL_EXPIRES)
            return CatalogBody(size=size, gzipped=gzipped, redirect_url=url)
        return CatalogBody(size=size, gzipped=gzipped, chunks=storage.iter_object(key, COPY_CHUNK))
    path = storage.local_path(key)
    if not os.path.exists(path):
        logger.warning("catalog file %s is missing: rebuilding", key)
        CatalogDocument.objects.filter(pk=document.pk).update(etag="")
        _meta_memo.pop(document.base_url, None)
        catalog_request_build(document.base_url)
        return None
    return CatalogBody(size=size, gzipped=gzipped, path=path)


# --- deltas --------------------------------------------------------------------------------------------
def catalog_delta_horizon() -> datetime | None:
    """The oldest moment a delta can start from: the oldest build still recorded."""
    return CatalogBuild.objects.aggregate(oldest=Min("generated_at"))["oldest"]


def catalog_delta(
    document: CatalogDocument, *, since_etag: str | None, since_time: datetime | None
) -> dict | None:
    """The apps changed (listing rows, for ``CatalogDeltaSerializer`` to render) and removed since a previous
    document (its ETag) or a moment, for the request's base (``document``'s), or None when the full
    document is the answer: an ETag no longer recorded, a moment before the horizon, or more changed apps
    than ``CATALOG_DELTA_MAX_APPS``."""
    if since_etag is not None:
        since_time = (
            CatalogBuild.objects.filter(etag=since_etag)
            .order_by("generated_at")
            .values_list("generated_at", flat=True)
            .first()
        )
        if since_time is None:
            return None
    horizon = catalog_delta_horizon()
    if horizon is None or since_time < horizon:
        return None
    states = CatalogEntryState.objects.filter(changed_at__gt=since_time)
    changed = states.filter(removed=False).values("package_id")
    if changed.count() > settings.CATALOG_DELTA_MAX_APPS:
        return None
    removed = list(states.filter(removed=True).order_by("package_id").values_list("package_id", flat=True))
    listings = selectors.attach_shown_versions(list(_catalog_rows().filter(package_id__in=changed)))
    return {
        "generated_at": document.generated_at,
        "etag": document.etag,
        "since": since_time,
        **catalog_url_templates(),
        "changed": listings,  # rendered by CatalogDeltaSerializer's CatalogEntrySerializer
        "removed": removed,
    }


# --- export --------------------------------------------------------------------------------------------
def catalog_export(out, *, compress: bool) -> int:
    """Write the catalog (the API's JSON for ``SITE_URL``, else ``DEFAULT_SITE_URL``) to the binary file
    ``out``, gzipped if ``compress``, streaming; returns the number of apps."""
    built = catalog_render()
    try:
        path = built.gzipped if compress and built.gzipped else built.identity
        if compress and not built.gzipped:
            with open(built.identity, "rb") as src, gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
                shutil.copyfileobj(src, gz, COPY_CHUNK)
        else:
            with open(path, "rb") as src:
                shutil.copyfileobj(src, out, COPY_CHUNK)
        return built.count
    finally:
        built.cleanup()
