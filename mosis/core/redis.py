"""The one adapter between the project and Redis: a public API for what the store does beside plain caching.

Production (``REDIS_URL`` set) runs the default cache on django-redis; the embedded mode (no Redis) runs it
on a local cache. Everything here works in both: with Redis it talks to the server through the cache's own
connection (``django_redis.get_redis_connection``: one pool per process, no second set of connections),
without it it falls back to Django's cache API, so callers never branch on the deployment unless they want
a Redis-only shortcut (``client()`` is None without Redis).

- **Keys**: ``key(name)`` is the cache's full key (``KEY_PREFIX:version:name``), so ``cache.clear()``
  (``mosis.core.cache``) removes what this module stored, and nothing outside the prefix.
- **Values** stored through the raw client are (de)serialised here (``dumps``/``loads``, pickle), never by
  reaching into the cache backend's serializer: a value written by ``value_set`` is read by ``loads``.
- **Scripts**: ``Script(text)`` is a Lua script registered once per process (``EVALSHA``; loaded again by
  redis-py after a Redis restart). Each script's text exists in exactly one module.
- **Generations** (``generation_bump``): counters that key cached documents; a missing one restarts from a
  time-based value, never from 1, so an evicted counter cannot come back to an old number. Each expires
  ``GENERATION_TTL`` seconds after it was created: a store keys pages by counters named after what clients
  ask (one per search), so counters must not pile up; an expired one only costs its documents a miss.
- **Counters** (``counter_incr``): exact hit/miss style counters.
- **Locks** (``single_flight``, ``lock_held``): at most one holder per name for a bounded time, for "one
  rebuild per key"; others ask whether it is held (to wait for its result or serve a stale copy).
- **Sets** (``set_add``, ``set_take``): small sets of names with an expiry, e.g. which cached pages hold a
  package (``SADD``/``SMEMBERS`` on Redis; a read-modify-write under a short lock in the embedded cache).
- **Outages**: ``UNAVAILABLE`` is what an unreachable Redis raises; the store's cached reads and download
  counting catch it and serve from the database (docs/operations.md).
"""

from __future__ import annotations

import contextlib
import pickle
import threading
import time
import zlib
from collections.abc import Iterator, Sequence

import redis
from django.core.cache import cache, caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted

CACHE_ALIAS = "default"
# What an unreachable (or restarting) Redis raises, through the raw client or through the cache API: callers
# that can serve without Redis catch these and take their database path.
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, ConnectionInterrupted)


def enabled() -> bool:
    """The default cache is Redis (production); False in the embedded mode."""
    return isinstance(caches[CACHE_ALIAS], RedisCache)


def client() -> redis.Redis | None:
    """The default cache's Redis client (shared with the cache, thread-safe), or None without Redis."""
    if not enabled():
        return None
    return get_redis_connection(CACHE_ALIAS, write=True)


def key(name: str) -> str:
    """The Redis key the cache uses for ``name`` (prefix and version included)."""
    return caches[CACHE_ALIAS].make_key(name)


def dumps(value) -> bytes:
    """Serialise a value stored through the raw client (the adapter's format: pickle)."""
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def loads(raw: bytes | None):
    """The value ``dumps`` wrote, or None for a missing key."""
    return None if raw is None else pickle.loads(raw)  # noqa: S301 - only our own server-side values


def as_text(value) -> str:
    """A Redis reply (bytes, or int from a script) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


class Script:
    """A Lua script, registered once per process and run with ``EVALSHA`` (redis-py loads it on first use
    and again after a Redis restart). Define each as a module constant next to the code that uses it."""

    def __init__(self, text: str):
        self.text = text
        self._registered = None  # redis-py's Script: holds the SHA and reloads the text on NOSCRIPT

    def __call__(self, *, keys: Sequence, args: Sequence = ()):
        connection = client()
        if connection is None:
            raise RuntimeError("Lua scripts need Redis as the default cache (REDIS_URL)")
        if self._registered is None:
            self._registered = connection.register_script(self.text)
        return self._registered(keys=list(keys), args=list(args), client=connection)


# How long a generation counter lives after it is created (INCR keeps the expiry). Longer than any document
# keyed by it is kept fresh or stale, so an expiry only ever turns a few lookups into misses.
GENERATION_TTL = 3600

# INCR, or a fresh time-based value when the counter was missing (evicted, expired or never created).
_GENERATION_BUMP = Script(
    """
if redis.call('INCR', KEYS[1]) == 1 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
"""
)


def generation_bump(name: str) -> None:
    """Move the generation counter ``name`` on: one round trip with Redis. Safe to repeat."""
    if enabled():
        _GENERATION_BUMP(keys=[key(name)], args=[time.time_ns(), GENERATION_TTL])
        return
    try:
        cache.incr(name)
    except ValueError:  # missing: start from a fresh time-based value, never an old number
        cache.set(name, time.time_ns(), timeout=GENERATION_TTL)


def generations(names: Sequence[str]) -> tuple:
    """The current values of the generation counters ``names``, creating missing ones (time-based)."""
    connection = client()
    if connection is not None:
        full = [key(name) for name in names]
        values = connection.mget(full)
        missing = [k for k, v in zip(full, values, strict=True) if v is None]
        if missing:
            fresh = str(time.time_ns())
            pipe = connection.pipeline(transaction=False)
            for k in missing:
                pipe.set(k, fresh, nx=True, ex=GENERATION_TTL)
            pipe.execute()
            values = connection.mget(full)
        return tuple(as_text(v) for v in values)
    found = cache.get_many(list(names))
    values = []
    for name in names:
        if name not in found:
            with _embedded_lock(name):  # so concurrent first readers agree on one value
                cache.add(name, time.time_ns(), timeout=GENERATION_TTL)
                found[name] = cache.get(name, 0)
        values.append(found[name])
    return tuple(str(v) for v in values)


def counter_incr(name: str, amount: int = 1) -> None:
    """Add ``amount`` to the counter ``name`` (created at 0, never expires). Exact with Redis; in the
    embedded cache a counter evicted between two calls loses one count, never the request."""
    connection = client()
    if connection is not None:
        connection.incrby(key(name), amount)
        return
    try:
        cache.incr(name, amount)
    except ValueError:
        cache.add(name, 0, timeout=None)
        with contextlib.suppress(ValueError):
            cache.incr(name, amount)


def counter_values(names: Sequence[str]) -> dict[str, int]:
    """``{name: value}`` of the counters ``names`` (0 for a missing one)."""
    connection = client()
    if connection is not None:
        values = connection.mget([key(name) for name in names])
        return {name: int(v or 0) for name, v in zip(names, values, strict=True)}
    found = cache.get_many(list(names))
    return {name: int(found.get(name, 0)) for name in names}


def value_set(name: str, value, *, timeout: int) -> None:
    """Store ``value`` under ``name`` for ``timeout`` seconds, readable by ``loads`` of a raw ``GET`` of
    ``key(name)`` (a script's reply) as well as by ``value_get``."""
    connection = client()
    if connection is not None:
        connection.set(key(name), dumps(value), ex=timeout)
        return
    cache.set(name, value, timeout=timeout)


def value_get(name: str):
    """What ``value_set`` stored under ``name``, or None."""
    connection = client()
    if connection is not None:
        return loads(connection.get(key(name)))
    return cache.get(name)


@contextlib.contextmanager
def single_flight(name: str, *, timeout: float) -> Iterator[bool]:
    """Try to become the only holder of the lock ``name`` for at most ``timeout`` seconds, without waiting.

    Yields True when this caller holds it (released on exit), False when someone else does: the caller
    then serves what it has (a stale copy, or builds anyway) instead of queueing. With Redis it is
    redis-py's lock (a token only the holder can release); in the embedded cache a process-local lock and an
    ``add`` (a holder that outlives ``timeout`` may release a later holder's lock, and two processes of the file
    cache may both get it: at worst two rebuilds, never a wrong answer).
    """
    lock_name = f"lock:{name}"
    connection = client()
    if connection is not None:
        lock = connection.lock(key(lock_name), timeout=timeout, blocking=False)
        acquired = bool(lock.acquire())
        try:
            yield acquired
        finally:
            if acquired:
                with contextlib.suppress(redis.exceptions.LockError):  # expired meanwhile: nothing to free
                    lock.release()
        return
    # The embedded cache's ``add`` is atomic for the local-memory cache, not for the file cache (a check then
    # a write): a process-local lock first makes the threads of one process take turns on either.
    local = _FLIGHT_LOCKS[zlib.crc32(lock_name.encode()) % len(_FLIGHT_LOCKS)]
    if not local.acquire(blocking=False):
        yield False
        return
    try:
        acquired = bool(cache.add(lock_name, 1, timeout=max(1, int(timeout))))
        try:
            yield acquired
        finally:
            if acquired:
                cache.delete(lock_name)
    finally:
        local.release()


# Striped, so their number is bounded: two names sharing a stripe only make one wait for the other's result.
_FLIGHT_LOCKS = tuple(threading.Lock() for _ in range(256))


def lock_held(name: str) -> bool:
    """Someone holds the ``single_flight`` lock ``name`` right now (one round trip with Redis)."""
    connection = client()
    if connection is not None:
        return bool(connection.exists(key(f"lock:{name}")))
    return cache.get(f"lock:{name}") is not None


# The embedded cache has no set type: a set is a Python set stored under its name, changed under a short lock
# (``_embedded_lock``): a process-local lock, since the file cache's ``add`` is a check then a write, and an
# ``add`` for other processes.
_EMBEDDED_LOCK_SECONDS = 2
_EMBEDDED_WAIT_SECONDS = 1.0
_SHORT_LOCKS = tuple(threading.RLock() for _ in range(64))


@contextlib.contextmanager
def _embedded_lock(name: str) -> Iterator[None]:
    lock_name = f"lock:short:{name}"
    with _SHORT_LOCKS[zlib.crc32(lock_name.encode()) % len(_SHORT_LOCKS)]:
        deadline = time.monotonic() + _EMBEDDED_WAIT_SECONDS
        while not cache.add(lock_name, 1, timeout=_EMBEDDED_LOCK_SECONDS):
            if time.monotonic() > deadline:
                break  # a holder that died: go on (its lock expires by itself)
            time.sleep(0.002)
        try:
            yield
        finally:
            cache.delete(lock_name)


def set_add(entries: dict[str, Sequence[str]], *, timeout: int) -> None:
    """Add members to sets: ``{set name: members}``, each set kept ``timeout`` seconds after its last
    addition. One pipelined round trip with Redis."""
    entries = {name: list(members) for name, members in entries.items() if members}
    if not entries:
        return
    connection = client()
    if connection is not None:
        pipe = connection.pipeline(transaction=False)
        for name, members in entries.items():
            pipe.sadd(key(name), *members)
            pipe.expire(key(name), timeout)
        pipe.execute()
        return
    for name, members in entries.items():
        with _embedded_lock(name):
            cache.set(name, (cache.get(name) or set()) | set(members), timeout=timeout)


def set_take(names: Sequence[str]) -> dict[str, set[str]]:
    """Read and delete the sets ``names`` at once: ``{name: members}`` (empty for a missing set)."""
    names = list(names)
    if not names:
        return {}
    connection = client()
    if connection is not None:
        pipe = connection.pipeline(transaction=True)
        for name in names:
            pipe.smembers(key(name))
        pipe.delete(*(key(name) for name in names))
        replies = pipe.execute()[:-1]
        return {name: {as_text(m) for m in members} for name, members in zip(names, replies, strict=True)}
    taken = {}
    for name in names:
        with _embedded_lock(name):
            taken[name] = set(cache.get(name) or set())
            cache.delete(name)
    return taken
