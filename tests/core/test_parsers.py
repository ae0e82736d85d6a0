"""Deeply nested JSON is a 400, never a 500 (issue "Trust" §4; SPEC §11)."""

import pytest

from mosis.core.parsers import MAX_JSON_DEPTH, json_depth_exceeds
from tests.factories import community_device

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/v1/devices", "/v1/auth/token", "/v1/auth/refresh"])
def test_a_body_nested_3000_levels_is_refused_on_anonymous_endpoints(api_client, path, no_ratelimits):
    body = "[" * 3000 + "]" * 3000
    response = api_client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "nested deeper" in error["message"]


def test_a_body_just_past_the_bound_is_refused_and_one_within_it_is_read(auth_client, no_ratelimits):
    deep = {"name": "x"}
    for _ in range(MAX_JSON_DEPTH):
        deep = {"a": deep}
    response = auth_client.post("/v1/apps", data=deep, format="json")
    assert response.status_code == 400
    assert "nested deeper" in response.json()["error"]["message"]
    shallow = auth_client.post("/v1/apps", data={"package_id": "com.example.ok", "name": "Ok"}, format="json")
    assert shallow.status_code == 201


def test_depth_is_measured_without_recursion():
    value = []
    for _ in range(100_000):
        value = [value]
    assert json_depth_exceeds(value, MAX_JSON_DEPTH)
    assert not json_depth_exceeds({"a": [1, {"b": 2}]}, 3)
    assert json_depth_exceeds({"a": [1, {"b": [3]}]}, 3)


@pytest.mark.parametrize("body", ["null", "[]", "[{}]", '"apps"', "3", "true"])
@pytest.mark.parametrize("path", ["/v1/devices/me/updates", "/v1/devices/me/plan?dryrun=1"])
def test_a_body_that_is_not_a_json_object_is_refused(api_client, path, body, no_ratelimits):
    """Found by schemathesis: ``null`` was read as "no fields" and answered 200 with an empty plan."""
    _device, token = community_device()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["message"] == "The body must be a JSON object."
