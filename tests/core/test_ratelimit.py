"""SPEC §3 rate limits: per client and category, counted in the cache in one round trip, headers on personal
responses and 429s (never on a public anonymous answer a shared cache may store), 429 ``RATE_LIMITED`` with
``Retry-After`` once over the limit."""

import types

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache

from tests.conftest import jwt_client_for
from tests.factories import UserFactory

pytestmark = [pytest.mark.urls("tests.core.probe_urls"), pytest.mark.django_db]

NOW = 1_900_000_000.0
HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def frozen_clock(monkeypatch):
    """Counters live in fixed windows; pin the clock so a test never straddles a window boundary."""
    clock = types.SimpleNamespace(time=lambda: NOW)
    monkeypatch.setattr("mosis.core.ratelimit.time", clock)
    return clock


@pytest.fixture
def tight_limits(settings, frozen_clock):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": "3/m", "write": "2/m", "auth": "1/m"}
    return settings.RATE_LIMITS


def test_headers_on_a_personal_response(auth_client, tight_limits):
    response = auth_client.post("/v1/_probe/echo", {"name": "ok", "count": 1}, format="json")
    assert response.status_code == 201
    assert response["X-RateLimit-Limit"] == "2"
    assert response["X-RateLimit-Remaining"] == "1"
    reset = int(response["X-RateLimit-Reset"])
    assert NOW < reset <= NOW + 60


def test_headers_on_personal_error_responses_too(auth_client, tight_limits):
    validation = auth_client.post("/v1/_probe/echo", {}, format="json")
    assert validation.status_code == 400
    assert all(validation.has_header(h) for h in HEADERS)


def test_no_per_client_headers_on_anonymous_answers(api_client, tight_limits):
    """An anonymous answer may be stored by a shared cache and shown to every client: it carries no
    per-IP counters (they are still counted), whichever path answered it."""
    public = api_client.get("/v1/_probe/public")
    unauthenticated = api_client.post("/v1/_probe/echo", {}, format="json")
    unknown = api_client.get("/v1/no/such/route")
    health = api_client.get("/v1/health")
    for response in (public, unauthenticated, unknown, health):
        assert not any(response.has_header(h) for h in HEADERS), response
    assert [api_client.get("/v1/_probe/public").status_code for _ in range(3)] == [200, 200, 429]


def test_one_redis_round_trip_counts_a_request(auth_client, tight_limits):
    """All limit checks of a request cost one round trip: the registered script, nothing read afterwards
    for the headers."""
    from redis.connection import AbstractConnection

    from mosis.core import redis as redis_adapter

    if not redis_adapter.enabled():
        pytest.skip("the embedded cache has no round trips")
    auth_client.post("/v1/_probe/echo", {}, format="json")  # the script is loaded, the user exists
    sent = []
    real = AbstractConnection.send_packed_command

    def sending(self, command, *args, **kwargs):
        sent.append(b"".join(command) if isinstance(command, list | tuple) else bytes(command))
        return real(self, command, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AbstractConnection, "send_packed_command", sending)
        response = auth_client.post("/v1/_probe/echo", {}, format="json")
    assert response.has_header("X-RateLimit-Limit")
    assert len(sent) == 1 and b"EVALSHA" in sent[0]


def test_rates_are_parsed_without_the_library(settings):
    from mosis.core.ratelimit import parse_rate

    assert parse_rate("1000/h") == (1000, 3600)
    assert parse_rate("10/5m") == (10, 300)
    assert parse_rate("7/d") == (7, 86400)
    with pytest.raises(ValueError):
        parse_rate("fast")


def test_over_the_limit_is_429_with_retry_after_and_the_headers(api_client, tight_limits):
    statuses = [api_client.get("/v1/_probe/public").status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    response = api_client.get("/v1/_probe/public")
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert error["request_id"] == response["X-Request-ID"]
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["X-RateLimit-Remaining"] == "0"


def test_counters_are_per_category(api_client, tight_limits):
    assert api_client.post("/v1/_probe/auth", {}, format="json").status_code == 200
    assert api_client.post("/v1/_probe/auth", {}, format="json").status_code == 429
    # The auth budget is spent; reads and writes of the same client are counted apart.
    assert api_client.get("/v1/_probe/public").status_code == 200
    assert api_client.post("/v1/_probe/public", {}, format="json").status_code == 200


def test_counters_are_per_client(tight_limits):
    alice, bob = jwt_client_for(UserFactory()), jwt_client_for(UserFactory())
    payload = {"name": "ok", "count": 1}
    assert [alice.post("/v1/_probe/echo", payload, format="json").status_code for _ in range(3)] == [
        201,
        201,
        429,
    ]
    assert bob.post("/v1/_probe/echo", payload, format="json").status_code == 201


def test_all_keys_of_one_developer_share_one_budget(tight_limits):
    """Minting more API keys buys no more requests: the counter belongs to the user behind the key."""
    from rest_framework.test import APIClient

    from accounts.services import api_key_create

    developer = UserFactory()
    clients = []
    for index in range(3):
        _key, secret = api_key_create(user=developer, name=f"key {index}", scopes=["apps:write"])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        clients.append(client)
    payload = {"name": "ok", "count": 1}
    statuses = [client.post("/v1/_probe/echo", payload, format="json").status_code for client in clients]
    assert statuses == [201, 201, 429]
    # The same developer signed in with a JWT is the same principal too.
    assert jwt_client_for(developer).post("/v1/_probe/echo", payload, format="json").status_code == 429


def test_anonymous_clients_are_counted_by_ip(tight_limits):
    from rest_framework.test import APIClient

    here, there = APIClient(REMOTE_ADDR="10.0.0.1"), APIClient(REMOTE_ADDR="10.0.0.2")
    for _ in range(3):
        here.get("/v1/_probe/public")
    assert here.get("/v1/_probe/public").status_code == 429
    assert there.get("/v1/_probe/public").status_code == 200


def test_counters_live_in_the_cache(api_client, tight_limits):
    for _ in range(3):
        api_client.get("/v1/_probe/public")
    assert api_client.get("/v1/_probe/public").status_code == 429
    cache.clear()  # Redis in production: every web process shares the same counters
    assert api_client.get("/v1/_probe/public").status_code == 200


def test_the_window_resets(api_client, tight_limits, frozen_clock):
    for _ in range(4):
        api_client.get("/v1/_probe/public")
    frozen_clock.time = lambda: NOW + 61
    assert api_client.get("/v1/_probe/public").status_code == 200


def test_rate_limits_can_be_switched_off(api_client, tight_limits, settings):
    settings.RATE_LIMITS_ENABLED = False
    assert all(api_client.get("/v1/_probe/public").status_code == 200 for _ in range(5))


def test_the_rate_string_of_a_category_is_configurable(auth_client, settings, frozen_clock):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "write": "7/h"}
    response = auth_client.post("/v1/_probe/echo", {}, format="json")
    assert response["X-RateLimit-Limit"] == "7"
    assert int(response["X-RateLimit-Reset"]) <= NOW + 3600


def test_category_for_respects_per_method_mapping(rf):
    from mosis.core.ratelimit import category_for

    view = types.SimpleNamespace(ratelimit_category={"POST": "upload", "*": "read"})
    assert category_for(rf.post("/"), view) == "upload"
    assert category_for(rf.get("/"), view) == "read"
    plain = types.SimpleNamespace()
    assert category_for(rf.get("/"), plain) == "read"
    assert category_for(rf.delete("/"), plain) == "write"


@pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs REDIS_URL")
def test_clearing_the_redis_cache_leaves_other_prefixes_alone():
    from django.core.cache import caches

    from mosis.core import redis as redis_adapter

    client = redis_adapter.client()
    client.set("someone-else:1:key", "kept")
    cache.set("mine", "gone")
    try:
        caches["default"].clear()
        assert cache.get("mine") is None
        assert client.get("someone-else:1:key") == b"kept"
    finally:
        client.delete("someone-else:1:key")


def test_limits_fail_open_when_the_cache_is_down(api_client, tight_limits, monkeypatch, caplog):
    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "add", unreachable)
    monkeypatch.setattr(cache, "incr", unreachable)
    monkeypatch.setattr(cache, "get", unreachable)
    monkeypatch.setattr("mosis.core.redis.client", unreachable)  # production: the Redis client itself
    responses = [api_client.get("/v1/_probe/public") for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert not any(r.has_header("X-RateLimit-Limit") for r in responses)
    assert any(r.name == "mosis.ratelimit" for r in caplog.records)


def test_a_window_counter_expires_with_its_window(tight_limits):
    """Counters are fixed windows: each expires shortly after its window ends, so Redis never keeps them."""
    from mosis.core import redis as redis_adapter
    from mosis.core.ratelimit import EXPIRY_SLACK, rate_limit_count

    first = rate_limit_count(category="read", principal="ip:10.1.1.1")
    second = rate_limit_count(category="read", principal="ip:10.1.1.1")
    assert (first.count, second.count, second.limit) == (1, 2, 3)
    assert second.reset == NOW - NOW % 60 + 60
    if redis_adapter.enabled():
        ttl = redis_adapter.client().ttl(redis_adapter.key(f"rl:read:ip:10.1.1.1:{second.reset}"))
        assert 0 < ttl <= 60 + EXPIRY_SLACK
