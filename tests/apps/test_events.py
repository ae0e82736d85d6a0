"""``GET /v1/events``: the activity feed of the caller's own apps (seed 003; staff see all)."""

from datetime import UTC, datetime, timedelta

import pytest

from apps.constants import AppStatus
from apps.models import ActivityEvent
from apps.services import activity_record, app_set_status
from tests.factories import AppFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


def event_at(app, when, type="app.updated", actor=None):
    event = activity_record(type=type, app=app, actor=actor, data={"n": 1})
    ActivityEvent.objects.filter(pk=event.pk).update(created_at=when)
    return event


def test_feed_shows_own_apps_events_newest_first_with_iso_timestamps(auth_client, user):
    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    app_set_status(app=app, to=AppStatus.UNLISTED, actor=user, reason="pause")
    older = event_at(app, datetime(2026, 1, 1, tzinfo=UTC))
    response = auth_client.get("/v1/events")
    assert response.status_code == 200
    data = response.json()
    assert data["total"] == 2
    first, second = data["events"]
    assert first["type"] == "app.status_changed"
    assert first["app_id"] == str(app.id)
    assert first["package_id"] == app.package_id
    assert first["data"] == {"from": "published", "to": "unlisted", "reason": "pause"}
    assert first["actor"] == {"id": str(user.id), "name": user.display_name}
    assert second["id"] == str(older.id)
    assert second["created_at"] == "2026-01-01T00:00:00.000000Z"


def test_feed_never_shows_another_developers_events(auth_client, other_client, user, other_user):
    mine = AppFactory(owner=user)
    theirs = AppFactory(owner=other_user)
    activity_record(type="app.updated", app=mine, actor=user)
    activity_record(type="app.updated", app=theirs, actor=other_user)
    assert [e["app_id"] for e in auth_client.get("/v1/events").json()["events"]] == [str(mine.id)]
    assert [e["app_id"] for e in other_client.get("/v1/events").json()["events"]] == [str(theirs.id)]
    # filtering by someone else's app id gives nothing rather than their events
    assert auth_client.get(f"/v1/events?app_id={theirs.id}").json()["total"] == 0


def test_staff_see_every_event(staff_client, user, other_user):
    activity_record(type="app.updated", app=AppFactory(owner=user))
    activity_record(type="app.updated", app=AppFactory(owner=other_user))
    activity_record(type="app.deleted", data={"package_id": "com.example.gone"})
    data = staff_client.get("/v1/events").json()
    assert data["total"] == 3
    assert {e["package_id"] for e in data["events"]} >= {"com.example.gone"}


def test_feed_filters_by_type_app_and_time_range(auth_client, user):
    a = AppFactory(owner=user)
    b = AppFactory(owner=user)
    event_at(a, datetime(2026, 3, 1, tzinfo=UTC), type="app.created")
    mid = event_at(a, datetime(2026, 3, 5, tzinfo=UTC), type="app.updated")
    event_at(b, datetime(2026, 3, 5, 12, tzinfo=UTC), type="app.updated")
    event_at(a, datetime(2026, 3, 10, tzinfo=UTC), type="app.updated")

    def ids(query):
        response = auth_client.get(f"/v1/events?{query}")
        assert response.status_code == 200, response.json()
        return [e["id"] for e in response.json()["events"]]

    assert len(ids("type=app.updated")) == 3
    assert len(ids(f"app_id={a.id}")) == 3
    assert ids(f"app_id={a.id}&type=app.updated&since=2026-03-02T00:00:00Z&until=2026-03-06T00:00:00Z") == [
        str(mid.id)
    ]
    assert len(ids("since=2026-03-05T00:00:00Z")) == 3  # since is inclusive
    assert len(ids("until=2026-03-05T00:00:00Z")) == 1  # until is exclusive
    assert len(ids("limit=2&page=2")) == 2


@pytest.mark.parametrize(
    "query,field",
    [
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("app_id=not-a-uuid", "app_id"),
        ("since=2026-03-05T00:00:00Z&until=2026-03-01T00:00:00Z", "until"),
    ],
)
def test_invalid_filters_are_400(auth_client, query, field):
    response = auth_client.get(f"/v1/events?{query}")
    assert response.status_code == 400
    assert field in response.json()["error"]["details"]


def test_anonymous_is_401(api_client):
    assert api_client.get("/v1/events").status_code == 401


@pytest.mark.parametrize("count", [1, 30])
def test_feed_query_count_does_not_grow_with_events(auth_client, user, count, django_assert_num_queries):
    from versions.models import AppVersion

    now = datetime.now(UTC)
    for i in range(count):
        app = AppFactory(owner=user)
        version = AppVersion.objects.create(app=app, version_name="1.0.0", version_code=1, status="draft")
        event = activity_record(type="version.created", version=version, actor=UserFactory())
        ActivityEvent.objects.filter(pk=event.pk).update(created_at=now - timedelta(minutes=i))
    # auth user, count, one page of events joined with app, version and actor
    with django_assert_num_queries(3):
        response = auth_client.get("/v1/events?limit=100")
    assert response.status_code == 200
    assert len(response.json()["events"]) == count
    assert response.json()["events"][0]["version_code"] == 1
