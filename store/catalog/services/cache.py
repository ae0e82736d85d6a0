"""Cached public store reads (browse, categories, listing variants, versions, reviews) keyed so that a
change drops what it touched, rebuilt one at a time.

Every cached document is stored rendered: JSON bytes, their gzip form and a strong ETag, so a hit costs one
cache round trip and a 304 costs no rendering at all. Keys embed generation counters:

- ``all`` — bumped by ``store_cache_invalidate()`` with no app (everything stale: a category change, a mass
  rename);
- ``pkg:<package_id>`` — one app's own documents (listing variants, versions, version detail, reviews,
  download targets): bumped when that app changes, so one app's change leaves every other app's cached;
- ``scope:<name>`` — one group of list pages: ``all`` (browse without category or words, every sort and
  filter), ``cat:<slug>`` (browse of one category), ``q:<digest>`` (one search: its words and filters, every
  page), ``categories`` (the category list and its counts).

Which scopes an app's change bumps (``store_cache_invalidate(app_id=...)``): the scopes of every stored page
that holds the app (a set per package, ``pscopes:<package_id>``, filled as pages are stored), plus the pages
it can newly enter: its category's browse scope, the all-apps browse scope and the category list. A whole
scope goes, not only the page holding the app, because the app moving shifts the other pages of the same
query and changes their ``total``. A search the app newly matches (or a page of a scope whose stored pages
never held it) is not bumped: search pages are fresh for ``STORE_SEARCH_TTL`` seconds (shorter than
``STORE_CACHE_TTL``), so a new match shows within it. The download rollup drops only the listing variants
of the apps whose figures moved (``store_cache_invalidate_figures``), never a list page: popular order and
list figures lag by up to a page's freshness.

Reading the generations before building means a document built from data older than an invalidation is
stored under a key nobody asks for again; it just expires. Counters start at a time-based value so an
evicted counter can never come back to an old number and revive stale entries.

Rebuilds (``store_cache_fetch``): a stored document carries the time it is fresh until; past it, it stays
servable for ``STORE_CACHE_STALE`` more seconds (stale-while-revalidate): the request that takes the key's
``single_flight`` lock rebuilds it, every other one is served the stale copy meanwhile. A miss is built by the
lock's holder only; concurrent misses wait up to ``STORE_REBUILD_WAIT`` seconds for its result (then build
themselves rather than fail). So N concurrent requests for one cold or stale key build it once.

Round trips (production, Redis): a hit is **one** — a Lua script reads the generation counters, derives
the document key from them, ``GET``s it and counts the hit or miss, all server-side. A miss adds the lock,
the build and one pipelined store (entry, registry, page tracking).

Hits and misses are counted in Redis as they happen; entries are tracked per kind in a registry so
``/v1/cache/stats`` can report them (Redis sorted sets, or a dict in the embedded cache), and per owner (a
package or a scope) so an invalidation also removes them from the registry and frees them.

Redis keys are made with ``mosis.core.redis.key`` (the cache's prefix and version), not ``make_and_validate_key``: the
validation only warns about keys memcached would refuse, and its per-character scan showed up on the hot
reads' profile; the keys here are built from a fixed prefix, hex digests and bounded package ids.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from mosis.core import redis as redis_adapter
from mosis.core.siteurl import site_url
from store.http import CachedDocument, render_document

logger = logging.getLogger("mosis.store.cache")

PREFIX = "store:v1"
KINDS = ("list", "metadata", "version")
_STATS_HITS = f"{PREFIX}:stats:hits"
_STATS_MISSES = f"{PREFIX}:stats:misses"
_GEN_ALL = f"{PREFIX}:gen:all"
# How long a rebuild may hold its key's lock (a longer build lets a second one start), and how often a
# request waiting for another's build looks for its result.
BUILD_LOCK_SECONDS = 15
_WAIT_POLL_SECONDS = 0.02

SCOPE_ALL = "all"
SCOPE_CATEGORIES = "categories"


def category_scope(slug: str) -> str:
    return f"cat:{slug}"


def search_scope(digest: str) -> str:
    return f"q:{digest}"


def package_generation_key(package_id: str) -> str:
    return f"{PREFIX}:gen:pkg:{package_id}"


def scope_generation_key(scope: str) -> str:
    return f"{PREFIX}:gen:scope:{scope}"


def _package_scopes_set(package_id: str) -> str:
    """The scopes of the stored pages that hold ``package_id`` (``redis_adapter.set_add``)."""
    return f"{PREFIX}:pscopes:{package_id}"


def _owner_of(package_id: str | None, scope: str | None) -> str:
    return f"pkg:{package_id}" if package_id else f"scope:{scope}"


def _registry(kind: str) -> str:
    return f"{PREFIX}:registry:{kind}"


class _DictRegistry:
    """Entry registry for the embedded cache: one dict per kind {key: (owner, expires)}."""

    def add(self, kind: str, key: str, owner: str, timeout: int) -> None:
        now = time.time()
        registry = {k: v for k, v in (cache.get(_registry(kind)) or {}).items() if v[1] > now}
        registry[key] = (owner, now + timeout)
        cache.set(_registry(kind), registry, timeout=None)

    def count(self, kind: str) -> int:
        now = time.time()
        live = [k for k, (_, expires) in (cache.get(_registry(kind)) or {}).items() if expires > now]
        return len(cache.get_many(live)) if live else 0

    def drop_all(self) -> list[str]:
        keys = []
        for kind in KINDS:
            keys.extend((cache.get(_registry(kind)) or {}).keys())
            cache.delete(_registry(kind))
        return keys

    def drop_owners(self, owners: set[str], *, only: Callable[[str], bool] | None = None) -> list[str]:
        gone = []
        for kind in KINDS:
            registry = cache.get(_registry(kind)) or {}
            keys = [k for k, (owner, _) in registry.items() if owner in owners and (only is None or only(k))]
            if keys:
                gone.extend(keys)
                cache.set(_registry(kind), {k: v for k, v in registry.items() if k not in keys}, timeout=None)
        return gone


class _RedisRegistry:
    """Entry registry on Redis: a sorted set per kind (member = cache key, score = expiry) and a set of
    ``kind|key`` per owner (a package or a scope), so registering, counting and dropping stay O(log n)."""

    def __init__(self, client):
        self.client = client

    def zkey(self, kind: str) -> str:
        return redis_adapter.key(f"{PREFIX}:zreg:{kind}")

    def okey(self, owner: str) -> str:
        return redis_adapter.key(f"{PREFIX}:oreg:{owner}")

    def add_to(self, pipe, kind: str, key: str, owner: str, timeout: int) -> None:
        pipe.zadd(self.zkey(kind), {key: time.time() + timeout})
        pipe.sadd(self.okey(owner), f"{kind}|{key}")
        pipe.expire(self.okey(owner), timeout * 2)

    def count(self, kind: str) -> int:
        pipe = self.client.pipeline(transaction=False)
        pipe.zremrangebyscore(self.zkey(kind), "-inf", time.time())
        pipe.zcard(self.zkey(kind))
        return int(pipe.execute()[1])

    def drop_all(self) -> list[str]:
        # The ``all`` bump already made every entry unreachable; they expire on their own (no mass delete).
        self.client.delete(*(self.zkey(kind) for kind in KINDS))
        return []

    def drop_owners(self, owners: set[str], *, only: Callable[[str], bool] | None = None) -> list[str]:
        owners = sorted(owners)
        keys = []
        pipe = self.client.pipeline(transaction=False)
        for owner, members in zip(owners, self._members(owners), strict=True):
            dropped = []
            for member in members:
                kind, _, key = member.partition("|")
                if only is None or only(key):
                    pipe.zrem(self.zkey(kind), key)
                    dropped.append(member)
                    keys.append(key)
            if only is None:
                pipe.delete(self.okey(owner))
            elif dropped:
                pipe.srem(self.okey(owner), *dropped)
        pipe.execute()
        return keys

    def _members(self, owners: list[str]) -> list[list[str]]:
        pipe = self.client.pipeline(transaction=False)
        for owner in owners:
            pipe.smembers(self.okey(owner))
        return [[redis_adapter.as_text(m) for m in members] for members in pipe.execute()]


def _entry_registry():
    client = redis_adapter.client()
    return _RedisRegistry(client) if client is not None else _DictRegistry()


# Lua shared by every script that reads an entry keyed by its generations (this module's lookup, the
# download resolver): generation_lookup(n, fresh, base) reads the counters KEYS[1..n], creates a missing one
# at ``fresh`` (a time-based value, expiring after ``GENERATION_TTL``), and GETs ``base:<gen>:<gen>...``.
# Returns the generations and the value.
GENERATION_LOOKUP_LUA = """
local function generation_lookup(n, fresh, base)
  local gens = redis.call('MGET', unpack(KEYS, 1, n))
  for i = 1, n do
    if not gens[i] then
      redis.call('SET', KEYS[i], fresh, 'EX', {ttl})
      gens[i] = fresh
    end
  end
  return gens, redis.call('GET', base .. ':' .. table.concat(gens, ':'))
end
""".replace("{ttl}", str(redis_adapter.GENERATION_TTL))

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


def generation_keys(package_id: str | None = None, *, scope: str | None = None) -> list[str]:
    """The generations an entry depends on: one package's documents (listing variants, versions, reviews,
    download targets) on ``all`` and that package's own counter, a list page on ``all`` and its scope's."""
    if package_id:
        return [_GEN_ALL, package_generation_key(package_id)]
    return [_GEN_ALL, scope_generation_key(scope or SCOPE_ALL)]


def _lookup(base: str, gen_keys: list[str], *, count: bool, count_miss: bool = True) -> tuple[str, object]:
    """(entry key, stored value or None) for the entry ``base`` under the current generations.

    ``count`` counts the hit or the miss in the ``/v1/cache/stats`` counters; with ``count_miss=False`` only a
    hit is counted (a lookup whose miss is handed to a path that looks up again and counts it).
    """
    mode = ("1" if count_miss else "h") if count else "0"
    if redis_adapter.enabled():
        keys = [redis_adapter.key(k) for k in (*gen_keys, _STATS_HITS, _STATS_MISSES)]
        try:
            gens, raw = _LOOKUP(keys=keys, args=[redis_adapter.key(base), mode, str(time.time_ns())])
        except redis_adapter.UNAVAILABLE:
            logger.warning("store cache unreachable; answering from the database", exc_info=True)
            return base + _UNAVAILABLE, None  # a miss; storing it fails quietly too (_store_quietly)
        return base + ":" + ":".join(redis_adapter.as_text(g) for g in gens), redis_adapter.loads(raw)
    key = base + ":" + ":".join(redis_adapter.generations(gen_keys))
    stored = redis_adapter.value_get(key)
    if count and (stored is not None or count_miss):
        redis_adapter.counter_incr(_STATS_HITS if stored is not None else _STATS_MISSES)
    return key, stored


_UNAVAILABLE = ":unavailable"


@dataclass(frozen=True)
class _Entry:
    """Where a document lives: its key base, the generations it depends on, its registry kind and owner."""

    kind: str
    base: str
    gen_keys: list
    package_id: str | None
    scope: str | None

    @property
    def owner(self) -> str:
        return _owner_of(self.package_id, self.scope)


def _entry(kind: str, parts: tuple, package_id: str | None, scope: str | None) -> _Entry:
    if kind not in KINDS:
        raise ValueError(f"unknown cache kind {kind!r}")
    if kind == "list":
        package_id, scope = None, scope or SCOPE_ALL
    elif not package_id:
        raise ValueError(f"a {kind!r} document belongs to a package")
    # The absolute URLs a document holds name site_url(): without SITE_URL each host has its own entries.
    digest = hashlib.sha256(repr((parts, site_url())).encode()).hexdigest()[:40]
    family = str(parts[0]) if parts else "-"  # e.g. "listing": what the download rollup drops
    base = f"{PREFIX}:doc:{kind}:{family}:{package_id or '-'}:{digest}"
    return _Entry(kind, base, generation_keys(package_id, scope=scope), package_id, scope)


def _unpack(stored) -> tuple[CachedDocument, float]:
    body, gzipped, etag, fresh_until = stored
    return CachedDocument(body, gzipped, etag), fresh_until


def _freshness(scope: str | None) -> int:
    """Seconds a document stays fresh: search pages ``STORE_SEARCH_TTL`` (a newly matching app is not
    tracked), everything else ``STORE_CACHE_TTL``."""
    if scope is not None and scope.startswith("q:"):
        return min(settings.STORE_SEARCH_TTL, settings.STORE_CACHE_TTL)
    return settings.STORE_CACHE_TTL


def _store(entry: _Entry, key: str, document: CachedDocument, packages: Iterable[str]) -> None:
    """Store the document (fresh for its freshness, servable stale ``STORE_CACHE_STALE`` seconds more),
    register it and, for a list page, record its scope under each package it holds: one pipelined round
    trip on Redis."""
    fresh = _freshness(entry.scope)
    timeout = fresh + max(settings.STORE_CACHE_STALE, 0)
    value = (document.body, document.gzipped, document.etag, time.time() + fresh)
    tracked = {_package_scopes_set(p): [entry.scope] for p in packages} if entry.scope else {}
    client = redis_adapter.client()
    if client is None:
        redis_adapter.value_set(key, value, timeout=timeout)
        _DictRegistry().add(entry.kind, key, entry.owner, timeout)
        redis_adapter.set_add(tracked, timeout=timeout * 2)
        return
    pipe = client.pipeline(transaction=False)
    pipe.set(redis_adapter.key(key), redis_adapter.dumps(value), ex=timeout)
    _RedisRegistry(client).add_to(pipe, entry.kind, key, entry.owner, timeout)
    for name, scopes in tracked.items():
        pipe.sadd(redis_adapter.key(name), *scopes)
        pipe.expire(redis_adapter.key(name), timeout * 2)
    pipe.execute()


def _store_quietly(store: Callable[[], None]) -> None:
    """Store a freshly built entry; while Redis is unreachable the answer is served without it."""
    try:
        store()
    except redis_adapter.UNAVAILABLE:
        logger.warning("store cache unreachable; the answer is not cached", exc_info=True)


def store_cache_lookup(
    *, kind: str, parts: tuple, package_id: str | None = None, scope: str | None = None
) -> CachedDocument | None:
    """The document ``store_cache_fetch`` stored for the same arguments, or None; never builds (the fast
    path's read, ``mosis.core.fastpath``). One round trip; a hit is counted, a miss is not — the caller
    hands it to ``store_cache_fetch``, which looks up again and counts it there, once.

    A stale document is answered only while another request rebuilds it; otherwise None, so the DRF view
    takes the rebuild (and counts this request there: the hit counted here is taken back).
    """
    entry = _entry(kind, parts, package_id, scope)
    key, stored = _lookup(entry.base, entry.gen_keys, count=True, count_miss=False)
    if stored is None:
        return None
    document, fresh_until = _unpack(stored)
    if fresh_until > time.time():
        return document
    try:
        if redis_adapter.lock_held(key):
            return document
        redis_adapter.counter_incr(_STATS_HITS, -1)
    except redis_adapter.UNAVAILABLE:
        return document
    return None


def store_cache_fetch(
    *,
    kind: str,
    parts: tuple,
    build: Callable[[], object],
    package_id: str | None = None,
    scope: str | None = None,
    packages_of: Callable[[object], Iterable[str]] | None = None,
) -> CachedDocument:
    """The cached document for ``parts`` or, on a miss, ``build()`` rendered and stored — by one request at
    a time per key (see the module's "Rebuilds").

    ``kind`` is ``list`` (a page of ``scope``; ``packages_of(data)`` names the packages it holds, so their
    changes drop the scope), ``metadata`` or ``version`` (``package_id``'s own documents). Exceptions from
    ``build`` propagate and cache nothing.
    """
    entry = _entry(kind, parts, package_id, scope)
    if settings.STORE_CACHE_TTL <= 0:
        return render_document(build())
    key, stored = _lookup(entry.base, entry.gen_keys, count=True)
    if key.endswith(_UNAVAILABLE):
        return render_document(build())
    if stored is not None:
        document, fresh_until = _unpack(stored)
        if fresh_until > time.time():
            return document
        with _quiet_single_flight(key) as mine:
            if not mine:
                return document  # stale while another request rebuilds it
            return _build_and_store(entry, key, build, packages_of)
    with _quiet_single_flight(key) as mine:
        if mine:
            _, stored = _lookup(entry.base, entry.gen_keys, count=False)
            if stored is not None:  # stored by a builder that released the lock just before we took it
                return _unpack(stored)[0]
            return _build_and_store(entry, key, build, packages_of)
    document = _wait_for_builder(entry, key)
    return document if document is not None else _build_and_store(entry, key, build, packages_of)


class _quiet_single_flight:  # noqa: N801 - used as a context manager, like the adapter's
    """``redis_adapter.single_flight`` for ``key``; with the cache unreachable every caller builds."""

    def __init__(self, key: str):
        self.lock = redis_adapter.single_flight(key, timeout=BUILD_LOCK_SECONDS)

    def __enter__(self) -> bool:
        try:
            return self.lock.__enter__()
        except redis_adapter.UNAVAILABLE:
            self.lock = None
            return True

    def __exit__(self, *exc) -> None:
        if self.lock is not None:
            try:
                self.lock.__exit__(*exc)
            except redis_adapter.UNAVAILABLE:
                logger.warning("store cache unreachable; a rebuild lock expires by itself", exc_info=True)


def _wait_for_builder(entry: _Entry, key: str) -> CachedDocument | None:
    """The document another request is building for ``key``, once stored; None when it is not stored
    within ``STORE_REBUILD_WAIT`` seconds or the builder gave up (its build failed)."""
    deadline = time.monotonic() + settings.STORE_REBUILD_WAIT
    try:
        while time.monotonic() < deadline:
            time.sleep(_WAIT_POLL_SECONDS)
            _, stored = _lookup(entry.base, entry.gen_keys, count=False)
            if stored is not None:
                return _unpack(stored)[0]
            if not redis_adapter.lock_held(key):
                _, stored = _lookup(entry.base, entry.gen_keys, count=False)
                return None if stored is None else _unpack(stored)[0]
    except redis_adapter.UNAVAILABLE:
        return None
    return None


def _build_and_store(entry: _Entry, key: str, build, packages_of) -> CachedDocument:
    data = build()
    document = render_document(data)
    packages = list(packages_of(data)) if packages_of is not None else []
    _store_quietly(lambda: _store(entry, key, document, packages))
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
    key, value = _lookup(f"{PREFIX}:val:{package_id}:{digest}", generation_keys(package_id), count=False)
    if value is None:
        value = build()
        if value is not None and timeout > 0:
            _store_quietly(lambda: redis_adapter.value_set(key, value, timeout=timeout))
    return value


def _app_facts(*, app_id, package_id) -> tuple[str, str | None] | None:
    """(package id, category slug or None) of the app, or None when it is gone."""
    from apps.models import App

    apps = App.objects.filter(pk=app_id) if app_id is not None else App.objects.filter(package_id=package_id)
    return apps.values_list("package_id", "category__slug").first()


def store_cache_invalidate(*, app_id=None, package_id: str | None = None) -> None:
    """Make cached store reads stale: what one app's change touched (its own documents, the list scopes
    holding it or that it can newly enter: see the module), or everything when no app is given.

    Safe to call outside a transaction and repeatedly. The generation bumps are what guarantee freshness;
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
    facts = None
    if app_id is not None or package_id is not None:
        # An app already gone (deleted) named by its id alone cannot name its pages: drop everything, it is
        # rare. Named by its package id, its own documents and the pages tracked as holding it go.
        facts = _app_facts(app_id=app_id, package_id=package_id)
        if facts is None and package_id is not None:
            facts = (package_id, None)
    if facts is None:
        redis_adapter.generation_bump(_GEN_ALL)
        stale = registry.drop_all()
    else:
        package_id, category = facts
        tracked = redis_adapter.set_take([_package_scopes_set(package_id)])[_package_scopes_set(package_id)]
        scopes = tracked | {SCOPE_ALL, SCOPE_CATEGORIES} | ({category_scope(category)} if category else set())
        for name in (package_generation_key(package_id), *(scope_generation_key(s) for s in sorted(scopes))):
            redis_adapter.generation_bump(name)
        stale = registry.drop_owners({_owner_of(package_id, None), *(_owner_of(None, s) for s in scopes)})
    if stale:
        cache.delete_many(stale)


def store_cache_invalidate_figures(*, package_ids: Iterable[str]) -> None:
    """The download rollup moved these apps' figures: drop their cached listing variants (the default
    listing is the row's document, rendered again by the rollup). List pages are left alone: their figures
    and popular order lag by up to a page's freshness (``STORE_CACHE_TTL``)."""
    owners = {_owner_of(p, None) for p in package_ids}
    if not owners:
        return
    try:
        stale = _entry_registry().drop_owners(owners, only=lambda key: ":doc:metadata:listing:" in key)
        if stale:
            cache.delete_many(stale)
    except redis_adapter.UNAVAILABLE:
        logger.warning("cache unavailable: listing variants of %d apps not dropped", len(owners))


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
