"""The API's JSON parser (mosis.core.parsers): a body nested deeper than Python's recursion limit is a 400
with the SPEC §3 body, not a 500 (SPEC §11: nothing a client sends can crash a worker)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("opening,closing", [("[", "]"), ('{"a":', "}")])
def test_json_nested_too_deeply_is_a_400(auth_client, opening, closing):
    depth = 100_000
    response = auth_client.post(
        "/v1/apps", opening * depth + "1" + closing * depth, content_type="application/json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert "nested too deeply" in error["message"]


def test_ordinary_nesting_still_parses(auth_client):
    response = auth_client.post(
        "/v1/apps",
        '{"package_id": "com.example.nested", "name": "Nested", "tags": ["a", "b"]}',
        content_type="application/json",
    )
    assert response.status_code == 201
