"""Cached public store reads (browse, categories, listing, versions, catalog) with generation-counter keys.

Every cached document is stored rendered: JSON bytes, their gzip form and a strong ETag, so a hit costs one
cache round trip and a 304 costs no rendering at all. Keys embed generation counters:

- ``all``  — bumped by ``store_cache_invalidate()`` (everything stale; also on any category change);
- ``list`` — bumped on any app change: browse pages, categories and the catalog document depend on it;
- ``pkg:<package_id>`` — bumped when that app changes: its listing, versions list and download targets
  depend on it and on ``all`` only (they hold nothing of another app), so one app's change or review
  leaves every other app's documents cached.

Reading the generations before building means a document built from data older than an invalidation is
stored under a key nobody asks for again; it just expires (``STORE_CACHE_TTL``). Counters start at a
time-based value so an evicted counter can never come back to an old number and revive stale entries.

Round trips (production, Redis): a hit is **one** — a Lua script reads the generation counters, derives
the document key from them, ``GET``s it and counts the hit or miss, all server-side — so there is no
per-process memo and no staleness window: an invalidation is seen by every process on its next read. A miss
adds one pipelined ``SET`` + registry update; a missing generation counter is created inside the script.

Hits and misses are counted in Redis as they happen (exact, never batched); entries are tracked per kind in a registry so
``/v1/cache/stats`` can report them: Redis sorted sets in production (atomic, O(log n)), a dict in the
cache for the embedded local-memory cache (single process; a lost concurrent update only undercounts).
The registry never decides freshness — the generations do.

Redis keys are made with ``mosis.core.redis.key`` (the cache's prefix and version), not ``make_and_validate_key``: the
validation only warns about keys memcached would refuse, and its per-character scan showed up on the hot
reads' profile; the keys here are built from a fixed prefix, hex digests and bounded package ids.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from mosis.core import redis as redis_adapter
from store.http import CachedDocument, render_document

logger = logging.getLogger("mosis.store.cache")

PREFIX = "store:v1"
KINDS = ("list", "metadata", "version")
_STATS_HITS = f"{PREFIX}:stats:hits"
_STATS_MISSES = f"{PREFIX}:stats:misses"
_GEN_ALL = f"{PREFIX}:gen:all"
_GEN_LIST = f"{PREFIX}:gen:list"


def package_generation_key(package_id: str) -> str:
    return f"{PREFIX}:gen:pkg:{package_id}"


def _registry(kind: str) -> str:
    return f"{PREFIX}:registry:{kind}"


def _generations(package_id: str | None) -> tuple:
    return redis_adapter.generations(generation_keys(package_id))


class _DictRegistry:
    """Entry registry for the embedded local-memory cache: one dict per kind {key: (package_id, expires)}."""

    def add(self, kind: str, key: str, package_id: str | None, timeout: int) -> None:
        now = time.time()
        registry = {k: v for k, v in (cache.get(_registry(kind)) or {}).items() if v[1] > now}
        registry[key] = (package_id, now + timeout)
        cache.set(_registry(kind), registry, timeout=None)

    def count(self, kind: str) -> int:
        now = time.time()
        live = [k for k, (_, expires) in (cache.get(_registry(kind)) or {}).items() if expires > now]
        return len(cache.get_many(live)) if live else 0

    def drop_kind(self, kind: str) -> list[str]:
        keys = list((cache.get(_registry(kind)) or {}).keys())
        cache.delete(_registry(kind))
        return keys

    def drop_package(self, package_id: str) -> list[str]:
        gone = []
        for kind in ("metadata", "version"):
            registry = cache.get(_registry(kind)) or {}
            keys = [k for k, (pkg, _) in registry.items() if pkg == package_id]
            if keys:
                gone.extend(keys)
                cache.set(_registry(kind), {k: v for k, v in registry.items() if k not in keys}, timeout=None)
        return gone


class _RedisRegistry:
    """Entry registry on Redis: a sorted set per kind (member = cache key, score = expiry) and a set of
    keys per package, so registering, counting and dropping stay O(log n) at any catalog size."""

    def __init__(self, client):
        self.client = client

    def zkey(self, kind: str) -> str:
        return redis_adapter.key(f"{PREFIX}:zreg:{kind}")

    def pkey(self, package_id: str) -> str:
        return redis_adapter.key(f"{PREFIX}:preg:{package_id}")

    def add(self, kind: str, key: str, package_id: str | None, timeout: int) -> None:
        pipe = self.client.pipeline(transaction=False)
        pipe.zadd(self.zkey(kind), {key: time.time() + timeout})
        if package_id:
            pipe.sadd(self.pkey(package_id), f"{kind}|{key}")
            pipe.expire(self.pkey(package_id), timeout * 2)
        pipe.execute()

    def count(self, kind: str) -> int:
        pipe = self.client.pipeline(transaction=False)
        pipe.zremrangebyscore(self.zkey(kind), "-inf", time.time())
        pipe.zcard(self.zkey(kind))
        return int(pipe.execute()[1])

    def drop_kind(self, kind: str) -> list[str]:
        # The generation bump already made these unreachable; they expire on their own (no mass delete).
        self.client.delete(self.zkey(kind))
        return []

    def drop_package(self, package_id: str) -> list[str]:
        client = self.client
        members = [m.decode() if isinstance(m, bytes) else m for m in client.smembers(self.pkey(package_id))]
        pipe = client.pipeline(transaction=False)
        keys = []
        for member in members:
            kind, _, key = member.partition("|")
            pipe.zrem(self.zkey(kind), key)
            keys.append(key)
        pipe.delete(self.pkey(package_id))
        pipe.execute()
        return keys


def _entry_registry():
    client = redis_adapter.client()
    return _RedisRegistry(client) if client is not None else _DictRegistry()


# Lua shared by every script that reads an entry keyed by its generations (this module's lookup, the
# download resolver): generation_lookup(n, fresh, base) reads the counters KEYS[1..n], creates a missing one
# at ``fresh`` (a time-based value), and GETs ``base:<gen>:<gen>...``. Returns the generations and the value.
GENERATION_LOOKUP_LUA = """
local function generation_lookup(n, fresh, base)
  local gens = redis.call('MGET', unpack(KEYS, 1, n))
  for i = 1, n do
    if not gens[i] then
      redis.call('SET', KEYS[i], fresh)
      gens[i] = fresh
    end
  end
  return gens, redis.call('GET', base .. ':' .. table.concat(gens, ':'))
end
"""

# One round trip: read the generations, build the entry key from them, GET it, count the hit or the miss.
# KEYS = generation keys..., hits, misses; ARGV = [raw key base, what to count ('1' hits and misses, 'h' hits
# only, '0' nothing), a fresh time-based generation for counters that are missing]. Returns {generations, value}.
_LOOKUP = redis_adapter.Script(
    GENERATION_LOOKUP_LUA
    + """
local n = #KEYS - 2
local gens, value = generation_lookup(n, ARGV[3], ARGV[1])
if value and ARGV[2] ~= '0' then
  redis.call('INCR', KEYS[n + 1])
elseif not value and ARGV[2] == '1' then
  redis.call('INCR', KEYS[n + 2])
end
return {gens, value}
"""
)


def generation_keys(package_id: str | None) -> list[str]:
    """The generations an entry depends on: a list page or the catalog on ``all`` and ``list`` (any app's
    change), one package's documents (listing, versions, download targets) on ``all`` and that package's
    own counter only, so a review or a publish elsewhere leaves them cached."""
    return [_GEN_ALL, package_generation_key(package_id)] if package_id else [_GEN_ALL, _GEN_LIST]


def _lookup(base: str, package_id: str | None, *, count: bool, count_miss: bool = True) -> tuple[str, object]:
    """(entry key, stored value or None) for the entry ``base`` under the current generations.

    ``count`` counts the hit or the miss in the ``/v1/cache/stats`` counters; with ``count_miss=False`` only a
    hit is counted (a lookup whose miss is handed to a path that looks up again and counts it).
    """
    mode = ("1" if count_miss else "h") if count else "0"
    if redis_adapter.enabled():
        keys = [redis_adapter.key(k) for k in (*generation_keys(package_id), _STATS_HITS, _STATS_MISSES)]
        try:
            gens, raw = _LOOKUP(keys=keys, args=[redis_adapter.key(base), mode, str(time.time_ns())])
        except redis_adapter.UNAVAILABLE:
            logger.warning("store cache unreachable; answering from the database", exc_info=True)
            return base + ":unavailable", None  # a miss; storing it fails quietly too (_store_quietly)
        return base + ":" + ":".join(redis_adapter.as_text(g) for g in gens), redis_adapter.loads(raw)
    key = base + ":" + ":".join(_generations(package_id))
    stored = redis_adapter.value_get(key)
    if count and (stored is not None or count_miss):
        redis_adapter.counter_incr(_STATS_HITS if stored is not None else _STATS_MISSES)
    return key, stored


def _store(kind: str, key: str, value, package_id: str | None, timeout: int) -> None:
    """Store the document and register it: one pipelined round trip on Redis."""
    client = redis_adapter.client()
    if client is None:
        redis_adapter.value_set(key, value, timeout=timeout)
        _DictRegistry().add(kind, key, package_id, timeout)
        return
    registry = _RedisRegistry(client)
    pipe = client.pipeline(transaction=False)
    pipe.set(redis_adapter.key(key), redis_adapter.dumps(value), ex=timeout)
    pipe.zadd(registry.zkey(kind), {key: time.time() + timeout})
    if package_id:
        pipe.sadd(registry.pkey(package_id), f"{kind}|{key}")
        pipe.expire(registry.pkey(package_id), timeout * 2)
    pipe.execute()


def _store_quietly(store: Callable[[], None]) -> None:
    """Store a freshly built entry; while Redis is unreachable the answer is served without it."""
    try:
        store()
    except redis_adapter.UNAVAILABLE:
        logger.warning("store cache unreachable; the answer is not cached", exc_info=True)


def _document_base(kind: str, parts: tuple, package_id: str | None) -> tuple[str, str | None]:
    """(key base, package whose generation it depends on) of the document cached for ``parts``."""
    if kind not in KINDS:
        raise ValueError(f"unknown cache kind {kind!r}")
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:40]
    return f"{PREFIX}:doc:{kind}:{package_id or '-'}:{digest}", (package_id if kind != "list" else None)


def store_cache_lookup(*, kind: str, parts: tuple, package_id: str | None = None) -> CachedDocument | None:
    """The document ``store_cache_fetch`` stored for the same arguments, or None; never builds (the fast
    path's read, ``mosis.core.fastpath``). One round trip; a hit is counted, a miss is not — the caller
    hands it to ``store_cache_fetch``, which looks up again and counts it there, once."""
    _key, stored = _lookup(*_document_base(kind, parts, package_id), count=True, count_miss=False)
    return None if stored is None else CachedDocument(*stored)


def store_cache_fetch(
    *, kind: str, parts: tuple, build: Callable[[], object], package_id: str | None = None
) -> CachedDocument:
    """The cached document for ``parts`` or, on a miss, ``build()`` rendered and stored.

    ``kind`` is one of ``list`` (depends on every app), ``metadata`` or ``version`` (depend on
    ``package_id``'s app and are keyed by it). Exceptions from ``build`` propagate and cache nothing.
    """
    key, stored = _lookup(*_document_base(kind, parts, package_id), count=True)
    if stored is not None:
        return CachedDocument(*stored)
    document = render_document(build())
    timeout = settings.STORE_CACHE_TTL
    if timeout > 0:
        _store_quietly(
            lambda: _store(kind, key, (document.body, document.gzipped, document.etag), package_id, timeout)
        )
    return document


def store_cache_value(
    *, parts: tuple, build: Callable[[], object], package_id: str, timeout: int | None = None
):
    """A small internal value (not a served document) cached under ``package_id``'s generations.

    One round trip on a hit; not counted in ``/v1/cache/stats`` and not
    registered: an invalidation makes it unreachable and it expires after ``timeout`` seconds
    (``STORE_CACHE_TTL`` when None; 0 caches nothing). Exceptions from ``build`` propagate and cache
    nothing; ``build()`` returning None is not cached either.
    """
    timeout = settings.STORE_CACHE_TTL if timeout is None else timeout
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:40]
    key, value = _lookup(f"{PREFIX}:val:{package_id}:{digest}", package_id, count=False)
    if value is None:
        value = build()
        if value is not None and timeout > 0:
            _store_quietly(lambda: redis_adapter.value_set(key, value, timeout=timeout))
    return value


def _package_id_for(app_id) -> str | None:
    from apps.models import App

    return App.objects.filter(pk=app_id).values_list("package_id", flat=True).first()


def store_cache_invalidate(*, app_id=None, package_id: str | None = None) -> None:
    """Make cached store reads stale: one app's (plus every list/catalog), or everything when no app given.

    Safe to call outside a transaction and repeatedly. The generation bump is what guarantees freshness;
    the registry is updated so ``store_cache_stats`` counts only reachable entries. With the cache
    unreachable it logs and returns: the change it follows is committed already, and a cache that lost its
    data (a restarted Redis) holds nothing stale (docs/operations.md, "Redis (cache) down").
    """
    try:
        _invalidate(app_id=app_id, package_id=package_id)
    except redis_adapter.UNAVAILABLE:
        logger.warning(
            "cache unavailable: store reads of %s not invalidated", package_id or app_id or "all apps"
        )


def _invalidate(*, app_id, package_id: str | None) -> None:
    registry = _entry_registry()
    if package_id is None and app_id is not None:
        # An app that is already gone (deleted) cannot name its keys: drop everything, it is rare.
        package_id = _package_id_for(app_id)
        if package_id is None:
            app_id = None
    if app_id is None and package_id is None:
        redis_adapter.generation_bump(_GEN_ALL)
        redis_adapter.generation_bump(_GEN_LIST)
        stale = [key for kind in KINDS for key in registry.drop_kind(kind)]
    else:
        redis_adapter.generation_bump(_GEN_LIST)
        stale = registry.drop_kind("list")
        if package_id:
            redis_adapter.generation_bump(package_generation_key(package_id))
            stale += registry.drop_package(package_id)
    if stale:
        cache.delete_many(stale)


def store_cache_stats() -> dict:
    """``/v1/cache/stats`` (seed 004): reachable entries per kind, and hit/miss counters."""
    registry = _entry_registry()
    counts = {kind: registry.count(kind) for kind in KINDS}
    counters = redis_adapter.counter_values([_STATS_HITS, _STATS_MISSES])
    return {
        "list_entries": counts["list"],
        "metadata_entries": counts["metadata"],
        "version_entries": counts["version"],
        "total_entries": sum(counts.values()),
        "hits": counters[_STATS_HITS],
        "misses": counters[_STATS_MISSES],
    }
