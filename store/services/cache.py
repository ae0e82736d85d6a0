"""Cached public store reads (browse, categories, listing, versions, catalog) with generation-counter keys.

Every cached document is stored rendered: JSON bytes, their gzip form and a strong ETag, so a hit costs one
cache round trip and a 304 costs no rendering at all. Keys embed generation counters:

- ``all``  — bumped by ``store_cache_invalidate()`` (everything stale);
- ``list`` — bumped on any app change (browse pages, categories, catalog document);
- ``pkg:<package_id>`` — bumped when that app changes (its listing, versions and download answers).

Reading the generations before building means a document built from data older than an invalidation is
stored under a key nobody asks for again; it just expires (``STORE_CACHE_TTL``). Counters start at a
time-based value so an evicted counter can never come back to an old number and revive stale entries.

Hits and misses are counted with ``incr``; entries are tracked per kind in a small registry so
``/v1/cache/stats`` can report them (the registry is best-effort: a lost concurrent update only makes the
entry count slightly low, never serves stale data).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.renderers import JSONRenderer

PREFIX = "store:v1"
KINDS = ("list", "metadata", "version")
GZIP_MIN_BYTES = 512  # below this gzip does not pay for itself
_STATS_HITS = f"{PREFIX}:stats:hits"
_STATS_MISSES = f"{PREFIX}:stats:misses"
_GEN_ALL = f"{PREFIX}:gen:all"
_GEN_LIST = f"{PREFIX}:gen:list"


def _gen_pkg(package_id: str) -> str:
    return f"{PREFIX}:gen:pkg:{package_id}"


def _registry(kind: str) -> str:
    return f"{PREFIX}:registry:{kind}"


@dataclass(frozen=True)
class CachedDocument:
    """A rendered JSON document: identity bytes, gzip bytes (None when too small) and its strong ETag."""

    body: bytes
    gzipped: bytes | None
    etag: str  # quoted strong ETag of the identity body

    @property
    def gzip_etag(self) -> str:
        return f'{self.etag[:-1]}-gzip"'

    def matches(self, if_none_match: str | None) -> bool:
        """``If-None-Match`` names this document (either encoding, or ``*``)."""
        if not if_none_match:
            return False
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or self.etag in tags or self.gzip_etag in tags


def render_document(data) -> CachedDocument:
    body = JSONRenderer().render(data)
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
    return CachedDocument(body=body, gzipped=gzipped, etag=f'"{hashlib.sha256(body).hexdigest()[:40]}"')


def _generations(package_id: str | None) -> tuple:
    keys = [_GEN_ALL, _GEN_LIST] + ([_gen_pkg(package_id)] if package_id else [])
    found = cache.get_many(keys)
    values = []
    for key in keys:
        if key not in found:
            cache.add(key, time.time_ns(), timeout=None)
            found[key] = cache.get(key, 0)
        values.append(found[key])
    return tuple(values)


def _bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # missing: start from a fresh time-based value, never an old number
        cache.set(key, time.time_ns(), timeout=None)


def _count(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        cache.add(key, 0, timeout=None)
        with contextlib.suppress(ValueError):  # evicted between add and incr: lose one count, not the request
            cache.incr(key)


def _register(kind: str, key: str, package_id: str | None, timeout: int) -> None:
    registry = cache.get(_registry(kind)) or {}
    now = time.time()
    registry = {k: v for k, v in registry.items() if v[1] > now}
    registry[key] = (package_id, now + timeout)
    cache.set(_registry(kind), registry, timeout=None)


def store_cache_fetch(
    *, kind: str, parts: tuple, build: Callable[[], object], package_id: str | None = None
) -> CachedDocument:
    """The cached document for ``parts`` or, on a miss, ``build()`` rendered and stored.

    ``kind`` is one of ``list`` (depends on every app), ``metadata`` or ``version`` (depend on
    ``package_id``'s app and are keyed by it). Exceptions from ``build`` propagate and cache nothing.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown cache kind {kind!r}")
    gens = _generations(package_id if kind != "list" else None)
    digest = hashlib.sha256(repr((parts, gens)).encode()).hexdigest()[:40]
    key = f"{PREFIX}:doc:{kind}:{package_id or '-'}:{digest}"
    stored = cache.get(key)
    if stored is not None:
        _count(_STATS_HITS)
        return CachedDocument(*stored)
    _count(_STATS_MISSES)
    document = render_document(build())
    timeout = settings.STORE_CACHE_TTL
    cache.set(key, (document.body, document.gzipped, document.etag), timeout=timeout)
    _register(kind, key, package_id, timeout)
    return document


def _package_id_for(app_id) -> str | None:
    from apps.models import App

    return App.objects.filter(pk=app_id).values_list("package_id", flat=True).first()


def store_cache_invalidate(*, app_id=None, package_id: str | None = None) -> None:
    """Make cached store reads stale: one app's (plus every list/catalog), or everything when no app given.

    Safe to call outside a transaction and repeatedly; stale entries are also deleted right away so the
    entry counts in ``store_cache_stats`` drop.
    """
    if app_id is None and package_id is None:
        _bump(_GEN_ALL)
        _bump(_GEN_LIST)
        stale = []
        for kind in KINDS:
            stale.extend((cache.get(_registry(kind)) or {}).keys())
        cache.delete_many(stale + [_registry(kind) for kind in KINDS])
        return
    package_id = package_id or _package_id_for(app_id)
    _bump(_GEN_LIST)
    if package_id:
        _bump(_gen_pkg(package_id))
    stale = list((cache.get(_registry("list")) or {}).keys())
    cache.delete(_registry("list"))
    for kind in ("metadata", "version"):
        registry = cache.get(_registry(kind)) or {}
        gone = [k for k, (pkg, _) in registry.items() if pkg == package_id]
        if gone:
            stale.extend(gone)
            cache.set(_registry(kind), {k: v for k, v in registry.items() if k not in gone}, timeout=None)
    if stale:
        cache.delete_many(stale)


def store_cache_stats() -> dict:
    """``/v1/cache/stats`` (seed 004): live entries per kind, and hit/miss counters since the cache started."""
    now = time.time()
    counts = {}
    for kind in KINDS:
        registry = cache.get(_registry(kind)) or {}
        live = [k for k, (_, expires) in registry.items() if expires > now]
        counts[kind] = len(cache.get_many(live)) if live else 0
    counters = cache.get_many([_STATS_HITS, _STATS_MISSES])
    return {
        "list_entries": counts["list"],
        "metadata_entries": counts["metadata"],
        "version_entries": counts["version"],
        "total_entries": sum(counts.values()),
        "hits": int(counters.get(_STATS_HITS, 0)),
        "misses": int(counters.get(_STATS_MISSES, 0)),
    }
