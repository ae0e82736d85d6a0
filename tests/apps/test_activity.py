"""apps.activity.describe_event: every activity event in words, never as a Python dict."""

import pytest

from apps.activity import describe_event
from apps.services import activity_record
from tests.factories import AppFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "type_,data,expected",
    [
        (
            "app.status_changed",
            {"from": "published", "to": "suspended", "reason": "spam"},
            "app status: published → suspended by ana@mosis.dev\nreason: “spam”",
        ),
        (
            "app.status_changed",
            {"from": "published", "to": "unlisted", "reason": ""},
            "app status: published → unlisted by ana@mosis.dev",
        ),
        ("app.created", {"package_id": "com.x.y", "name": "Y"}, "app com.x.y created by ana@mosis.dev"),
        ("app.updated", {"fields": ["name", "tags"]}, "listing edited (name, tags) by ana@mosis.dev"),
        (
            "app.max_mosis_version_changed",
            {"from": "", "to": "2.9"},
            "max Mosis version: (none) → 2.9 by ana@mosis.dev",
        ),
        ("app.deleted", {"app_id": "x", "package_id": "com.x.y"}, "app com.x.y deleted by ana@mosis.dev"),
        (
            "version.created",
            {"version_code": 3, "version_name": "1.3.0"},
            "1.3.0 (code 3) created by ana@mosis.dev",
        ),
        (
            "version.yanked",
            {"version_code": 3, "version_name": "1.3.0"},
            "1.3.0 (code 3) yanked from “latest” by ana@mosis.dev",
        ),
        (
            "version.deleted",
            {"version_code": 3, "version_name": "1.3.0", "status": "draft"},
            "1.3.0 (code 3) deleted while draft by ana@mosis.dev",
        ),
        (
            "version.approved",
            {
                "from": "review",
                "to": "approved",
                "version_code": 3,
                "version_name": "1.3.0",
                "notes": "Fine.",
            },
            "1.3.0 (code 3): status: review → approved by ana@mosis.dev\nnotes: “Fine.”",
        ),
        (
            "webhook.disabled",
            {"url": "https://hooks.example.com", "failures": [1, 2], "meta": {"a": None}},
            "webhook.disabled — url: https://hooks.example.com; failures: 1, 2; meta: a: (none) by ana@mosis.dev",
        ),
        ("crash.new", {}, "crash.new by ana@mosis.dev"),
    ],
)
def test_each_event_reads_as_a_sentence(type_, data, expected):
    actor = UserFactory(email="ana@mosis.dev")
    event = activity_record(type=type_, app=AppFactory(), actor=actor, data=data)
    assert describe_event(event) == expected


def test_automatic_steps_are_by_the_store():
    event = activity_record(
        type="version.validated",
        app=AppFactory(),
        data={"from": "validating", "to": "draft", "version_code": 1, "version_name": "1.0.0"},
    )
    assert describe_event(event) == "1.0.0 (code 1): status: validating → draft by the store"
