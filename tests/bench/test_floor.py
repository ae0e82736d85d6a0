"""The benchmark floor view (bench/load.py): fixed 2 KB JSON, no database, routed only when asked for."""

import importlib.util
import json
import sys

import pytest


@pytest.fixture
def floor_enabled(settings):
    """Load a fresh copy of the root URLconf with BENCH_ENDPOINTS on, leaving the real module untouched."""
    settings.BENCH_ENDPOINTS = True
    spec = importlib.util.find_spec("mosis.urls")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["tests.bench._urls_with_floor"] = module
    settings.ROOT_URLCONF = "tests.bench._urls_with_floor"
    yield
    sys.modules.pop("tests.bench._urls_with_floor", None)


def test_floor_is_not_routed_by_default(api_client):
    response = api_client.get("/v1/_bench/floor")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.django_db
def test_floor_answers_fixed_2kb_json_without_touching_the_database(
    floor_enabled, api_client, django_assert_num_queries
):
    with django_assert_num_queries(0):
        first = api_client.get("/v1/_bench/floor")
        second = api_client.get("/v1/_bench/floor")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/json"
    assert len(first.content) == 2048
    assert first.content == second.content
    assert len(json.loads(first.content)["apps"]) == 20
    # Same middleware stack as real views: the request id is echoed like on every API response.
    assert first["X-Request-ID"]
