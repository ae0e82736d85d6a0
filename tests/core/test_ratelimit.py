"""SPEC §3 rate limits: per client and category, counted in the cache, headers on every API response,
429 ``RATE_LIMITED`` with ``Retry-After`` once over the limit."""

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
    monkeypatch.setattr("django_ratelimit.core.time", clock)
    monkeypatch.setattr("mosis.core.ratelimit.time", clock)
    return clock


@pytest.fixture
def tight_limits(settings, frozen_clock):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": "3/m", "write": "2/m", "auth": "1/m"}
    return settings.RATE_LIMITS


def test_headers_on_a_successful_response(api_client, tight_limits):
    response = api_client.get("/v1/_probe/public")
    assert response.status_code == 200
    assert response["X-RateLimit-Limit"] == "3"
    assert response["X-RateLimit-Remaining"] == "2"
    reset = int(response["X-RateLimit-Reset"])
    assert NOW < reset <= NOW + 60


def test_headers_on_error_responses_too(api_client, auth_client, tight_limits):
    validation = auth_client.post("/v1/_probe/echo", {}, format="json")
    unauthenticated = api_client.post("/v1/_probe/echo", {}, format="json")
    unknown = api_client.get("/v1/no/such/route")
    health = api_client.get("/v1/health")
    for response in (validation, unauthenticated, unknown, health):
        assert all(response.has_header(h) for h in HEADERS), response


def test_over_the_limit_is_429_with_retry_after(api_client, tight_limits):
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


def test_the_rate_string_of_a_category_is_configurable(api_client, settings, frozen_clock):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": "7/h"}
    response = api_client.get("/v1/_probe/public")
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

    client = cache._cache.get_client(write=True)
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
    responses = [api_client.get("/v1/_probe/public") for _ in range(5)]
    assert [r.status_code for r in responses] == [200] * 5
    assert not responses[0].has_header("X-RateLimit-Limit")
    assert any(r.name == "mosis.ratelimit" for r in caplog.records)
