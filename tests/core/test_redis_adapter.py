"""mosis.core.redis: the one Redis adapter, and its fall-back to Django's cache in the embedded mode.

Every test runs on whichever cache the suite runs on (REDIS_URL set: Redis; else the embedded file cache), so
both modes keep the same contract."""

import pytest
from django.core.cache import cache

from mosis.core import redis as redis_adapter

requires_redis = pytest.mark.skipif(not redis_adapter.enabled(), reason="needs REDIS_URL")


def test_a_generation_moves_on_and_restarts_time_based_when_missing():
    (first,) = redis_adapter.generations(["gen:test"])
    assert int(first) > 10**18  # created from the clock, never from 0 or 1
    redis_adapter.generation_bump("gen:test")
    assert redis_adapter.generations(["gen:test"]) == (str(int(first) + 1),)
    cache.delete("gen:test")  # evicted
    redis_adapter.generation_bump("gen:test")
    (restarted,) = redis_adapter.generations(["gen:test"])
    assert int(restarted) > int(first) + 1  # a fresh clock value: an old key can never come back


def test_counters_count_exactly_and_read_zero_when_missing():
    for _ in range(3):
        redis_adapter.counter_incr("count:test")
    redis_adapter.counter_incr("count:test", 2)
    assert redis_adapter.counter_values(["count:test", "count:none"]) == {"count:test": 5, "count:none": 0}


def test_values_round_trip_through_the_adapters_own_serialisation():
    value = (b"body", None, '"etag"')
    redis_adapter.value_set("value:test", value, timeout=60)
    assert redis_adapter.value_get("value:test") == value
    assert redis_adapter.value_get("value:none") is None


def test_single_flight_lets_one_holder_in_and_frees_the_lock_on_exit():
    with redis_adapter.single_flight("rebuild:test", timeout=5) as first:
        with redis_adapter.single_flight("rebuild:test", timeout=5) as second:
            assert (first, second) == (True, False)
        with redis_adapter.single_flight("rebuild:other", timeout=5) as other:
            assert other is True
    with redis_adapter.single_flight("rebuild:test", timeout=5) as again:
        assert again is True


@requires_redis
def test_keys_live_under_the_cache_prefix_so_clear_removes_them():
    client = redis_adapter.client()
    redis_adapter.counter_incr("count:prefixed")
    assert client.exists(redis_adapter.key("count:prefixed"))
    assert redis_adapter.key("count:prefixed").startswith(cache.key_prefix)
    cache.clear()
    assert not client.exists(redis_adapter.key("count:prefixed"))


@requires_redis
def test_a_script_is_registered_once_and_survives_a_script_flush():
    script = redis_adapter.Script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    name = redis_adapter.key("count:script")
    assert script(keys=[name], args=[2]) == 2
    redis_adapter.client().script_flush()  # a Redis restart loses loaded scripts
    assert script(keys=[name], args=[3]) == 5


def test_without_redis_scripts_are_refused_and_the_client_is_none():
    if redis_adapter.enabled():
        pytest.skip("this is the embedded mode's contract")
    assert redis_adapter.client() is None
    with pytest.raises(RuntimeError):
        redis_adapter.Script("return 1")(keys=[])
