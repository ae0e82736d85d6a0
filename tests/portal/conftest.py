"""Portal test helpers: a signed-in browser session, apps made through the services, versions in any state."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.services import app_create
from tests.factories import AppVersionFactory, CategoryFactory, UserFactory
from versions.constants import VersionStatus


@pytest.fixture
def browser(user) -> Client:
    """The developer ``user`` signed in through a session, as the portal's pages see them."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other_browser(db) -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


@pytest.fixture
def category(db):
    return CategoryFactory(slug="tools", name="Tools")


def make_app(owner, package_id="com.example.portal", **fields):
    return app_create(owner=owner, package_id=package_id, name=fields.pop("name", "Portal App"), **fields)


def make_version(app, status=VersionStatus.DRAFT, **fields):
    return AppVersionFactory(app=app, status=status, **fields)


@pytest.fixture
def app(user):
    return make_app(user)


JAVA_TRACE = (
    "java.lang.NullPointerException: note was null\n"
    "\tat com.example.notes.Editor.save(Editor.java:{line})\n"
    "\tat com.example.notes.Editor.onPause(Editor.java:88)\n"
    "\tat android.app.Activity.performPause(Activity.java:8162)"
)


def telemetry_history(app, *, days: int = 14) -> dict:
    """Believable figures for ``app`` (which needs a version) over the last ``days`` UTC days, made through
    the real services: downloads counted by the store (as events: Redis holds only the open days), events from devices, crash reports in two groups and
    two versions; then the daily rollup. Returns what was sent per day, for assertions."""
    import datetime as dt

    from store.downloads.services import download_record_event, downloads_rollup
    from telemetry.services import crash_report_submit, events_ingest, stats_rollup_days
    from telemetry.services.partitions import utc_today
    from tests.factories import community_device

    today = utc_today()
    devices = [community_device()[0] for _ in range(6)]
    version = app.versions.order_by("-version_code").first()
    sent = {}
    for offset in range(days):
        day = today - dt.timedelta(days=days - 1 - offset)
        moment = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC).isoformat()
        downloads = 2 + (offset * 7) % 9
        for n in range(downloads):
            # past days are counted in the database store (Redis holds only the open days)
            download_record_event(version=version, client_hash=f"client-{n}", day=day)
        active = devices[: 1 + offset % len(devices)]
        for device in active:
            events_ingest(
                events=[{"app_id": str(app.pk), "event_type": "app.open", "timestamp": moment}], device=device
            )
        crashes = offset % 3
        for n in range(crashes):
            crash_report_submit(
                app_id=app.pk,
                app_version="1.0.0" if offset < days // 2 else "1.1.0",
                crash_type="java.lang.NullPointerException" if n == 0 else "java.lang.IllegalStateException",
                message="note was null" if n == 0 else f"editor closed twice (id {offset})",
                stack_trace=JAVA_TRACE.format(line=41 + n),
                context={"screen": "editor", "free_memory_mb": 100 + offset},
                timestamp=moment,
                device=devices[0],
            )
        sent[day.isoformat()] = {
            "downloads": downloads,
            "active_users": len(active),  # the crashing device is one of them
            "crashes": crashes,
        }
    while downloads_rollup():
        pass
    stats_rollup_days(start=today - dt.timedelta(days=days - 1), end=today)
    return sent
