"""Store cache lookups: one Redis round trip per hit, and invalidations seen at once by every process."""

import pytest
from django.core.cache import cache

from mosis.core import redis as redis_adapter
from store.catalog.services.cache import (
    package_generation_key,
    store_cache_fetch,
    store_cache_invalidate,
    store_cache_stats,
    store_cache_value,
)

pytestmark = pytest.mark.django_db


def _fetch(builds, package_id="com.example.cached"):
    def build():
        builds.append(1)
        return {"n": len(builds)}

    return store_cache_fetch(kind="metadata", parts=("t",), build=build, package_id=package_id)


def test_a_counter_bumped_elsewhere_is_seen_on_the_next_read():
    builds = []
    assert _fetch(builds).body == _fetch(builds).body and len(builds) == 1
    # Another process's invalidation: there is no local state to clear.
    cache.incr(package_generation_key("com.example.cached"))
    assert b'"n":2' in _fetch(builds).body
    store_cache_invalidate(package_id="com.example.other")  # another app: this package's entries stay
    assert b'"n":2' in _fetch(builds).body
    store_cache_invalidate()
    assert b'"n":3' in _fetch(builds).body
    stats = store_cache_stats()
    assert (stats["hits"], stats["misses"]) == (2, 3)


def test_values_are_cached_per_package_and_not_counted():
    calls = []
    for _ in range(2):
        assert store_cache_value(parts=("v",), build=lambda: calls.append(1) or "x", package_id="p") == "x"
    assert len(calls) == 1
    assert store_cache_value(parts=("none",), build=lambda: None, package_id="p") is None
    assert (store_cache_stats()["hits"], store_cache_stats()["misses"]) == (0, 0)


def test_a_redis_hit_is_one_round_trip(redis_round_trips):
    builds = []
    _fetch(builds)
    redis_round_trips.clear()
    _fetch(builds)
    assert redis_round_trips == [["EVALSHA"]] and len(builds) == 1  # the registered script, not its text
    redis_round_trips.clear()
    _fetch(builds, package_id="com.example.never-seen")  # a miss that also creates the package's counter
    assert redis_round_trips[0] == ["EVALSHA"] and len(builds) == 2
    # + the rebuild lock (SET NX), a second look once it is held, the pipelined store, the lock's release
    assert [trip[0] for trip in redis_round_trips[1:]] == ["SET", "EVALSHA", "SET", "EVALSHA"]
    assert len(redis_round_trips[3]) > 1  # the store is one pipeline (entry, registry)
    assert b'"n":2' in _fetch(builds, package_id="com.example.never-seen").body


def test_the_redis_client_is_built_once_per_thread_and_holds_its_connection():
    """Building a redis.Redis costs about 0.3–0.5 ms; the adapter hands out the cache's own client, which
    holds one connection (Django keeps a backend per thread, so a client is never shared)."""
    if not redis_adapter.enabled():
        pytest.skip("the embedded local-memory cache has no Redis client")
    first = redis_adapter.client()
    assert redis_adapter.client() is first
    held = first.connection
    assert held is not None  # one connection held: no pool checkout (lock, liveness poll) per command
    cache.set("mosis-test-client-reuse", 1, timeout=5)
    assert cache.get("mosis-test-client-reuse") == 1
    assert first.connection is held
    held.disconnect()  # Redis restarted or dropped the idle connection: the next command reconnects
    assert cache.get("mosis-test-client-reuse") == 1


def test_lookups_survive_a_script_flush():
    """After a Redis restart (or SCRIPT FLUSH) the registered script is loaded again, not failed."""
    if not redis_adapter.enabled():
        pytest.skip("the embedded local-memory cache has no scripts")
    builds = []
    _fetch(builds)
    redis_adapter.client().script_flush()
    _fetch(builds)
    assert len(builds) == 1  # still a hit


def test_lookups_survive_redis_dropping_the_held_connection(redis_round_trips):
    """Redis closed the connection (restart, timeout, CLIENT KILL): the lookup is answered through
    redis-py's retry on a new connection, never an error."""
    import redis
    from django.conf import settings

    builds = []
    _fetch(builds)
    client = redis_adapter.client()
    held_id = client.client_id()
    with redis.Redis.from_url(settings.CACHES["default"]["LOCATION"]) as other:
        assert other.client_kill_filter(_id=held_id) == 1
    assert b'"n":1' in _fetch(builds).body and len(builds) == 1  # still the cached hit
    assert client.client_id() != held_id
