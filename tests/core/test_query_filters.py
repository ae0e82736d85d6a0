"""Query parameters of list and read endpoints (``mosis.core.filters``): declared once as FilterSets, so
an empty value or a value of the wrong type is a 400 naming the parameter, and the OpenAPI schema documents
exactly what the FilterSet accepts."""

import pytest

from apps.filters import EventFilterSet
from mosis.core.schema import NO_NUL_PATTERN, filterset_parameters
from tests.factories import AppFactory
from versions.filters import VersionFilterSet

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(user):
    return AppFactory(owner=user)


def lists(app):
    return {
        "apps": "/v1/apps",
        "events": "/v1/events",
        "versions": f"/v1/apps/{app.pk}/versions",
        "crashes": f"/v1/apps/{app.pk}/crashes",
        "analytics": f"/v1/apps/{app.pk}/analytics",
    }


@pytest.mark.parametrize(
    ("endpoint", "name"),
    [
        ("apps", "status"),
        ("events", "type"),
        ("events", "app_id"),
        ("events", "since"),
        ("versions", "status"),
        ("crashes", "version"),
        ("analytics", "start_date"),
        ("analytics", "metrics"),
    ],
)
def test_a_parameter_sent_empty_is_a_400_naming_it(auth_client, app, endpoint, name):
    response = auth_client.get(f"{lists(app)[endpoint]}?{name}=")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == {name: ["Must not be empty."]}
    assert error["request_id"]


@pytest.mark.parametrize(
    ("endpoint", "query", "name"),
    [
        ("apps", "status=bogus", "status"),
        ("events", "app_id=not-a-uuid", "app_id"),
        ("events", "since=yesterday", "since"),
        ("events", "until=2026-13-01T00:00:00Z", "until"),
        ("events", "type=" + "x" * 51, "type"),
        ("versions", "status=live", "status"),
        ("crashes", "version=" + "9" * 65, "version"),
        ("analytics", "end_date=2026-11-31", "end_date"),
        ("analytics", "start_date=11/10/2026", "start_date"),
    ],
)
def test_a_value_of_the_wrong_type_is_a_400_naming_it(auth_client, app, endpoint, query, name):
    response = auth_client.get(f"{lists(app)[endpoint]}?{query}")
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]) == [name]


def test_every_bad_parameter_is_named_at_once(auth_client):
    response = auth_client.get("/v1/events?type=&app_id=x&since=never")
    assert response.status_code == 400
    assert sorted(response.json()["error"]["details"]) == ["app_id", "since", "type"]


def test_parameters_that_are_not_declared_are_ignored(auth_client, app):
    assert auth_client.get("/v1/events?colour=blue&colour=").status_code == 200


def test_text_is_taken_as_sent_and_a_blank_value_is_not_empty(auth_client, app):
    # The schema says minLength 1: " " is a value (no event has that type), not a missing one.
    response = auth_client.get("/v1/events", {"type": " "})
    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_a_valid_filter_reaches_the_selector(auth_client, app):
    other = AppFactory(owner=app.owner)
    body = auth_client.get("/v1/apps", {"status": app.status}).json()
    assert {entry["id"] for entry in body["apps"]} == {str(app.pk), str(other.pk)}
    assert auth_client.get("/v1/apps", {"status": "suspended"}).json()["total"] == 0


def test_the_schema_documents_what_the_filterset_accepts():
    by_name = {parameter["name"]: parameter for parameter in filterset_parameters(EventFilterSet)}
    assert by_name == {
        "type": {
            "in": "query",
            "name": "type",
            "schema": {"type": "string", "minLength": 1, "maxLength": 50, "pattern": NO_NUL_PATTERN},
        },
        "app_id": {"in": "query", "name": "app_id", "schema": {"type": "string", "format": "uuid"}},
        "since": {"in": "query", "name": "since", "schema": {"type": "string", "format": "date-time"}},
        "until": {"in": "query", "name": "until", "schema": {"type": "string", "format": "date-time"}},
    }
    (status,) = filterset_parameters(VersionFilterSet)
    assert status["schema"]["enum"][0] == "uploading" and status["schema"]["minLength"] == 1
    assert status["description"].startswith("* `uploading` - Uploading")
