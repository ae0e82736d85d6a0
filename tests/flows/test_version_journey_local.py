"""SPEC §5–§8 end to end over HTTP with local storage: create → PUT the package to the signed URL →
upload-complete → validation (Celery, eager) → submit → a reviewer approves → publish → yank."""

import hashlib

import pytest
from django.core import mail

from apps.models import App
from tests.factories import AppFactory
from tests.versions.pipeline import (
    create_version,
    local_path_of,
    manifest_for,
    package_bytes,
    register_signing_key,
    sign_bytes,
    upload_locally,
    version_url,
)
from versions.models import AppVersion
from versions.services import version_review

pytestmark = pytest.mark.django_db


def test_developer_publishes_a_signed_version_with_local_storage(
    auth_client, user, staff_user, tmp_path, no_ratelimits, django_capture_on_commit_callbacks, settings
):
    settings.REQUIRE_SIGNATURE = True
    app = AppFactory(owner=user, package_id="com.example.notes", name="Notes")
    key, private_key = register_signing_key(user)
    data = package_bytes(
        manifest_for(app, permissions=["network", "camera"], dependencies={"com.example.sync": "^2.1.0"}),
        languages=["en", "de"],
    )
    signature = sign_bytes(tmp_path, data, private_key)

    created = create_version(auth_client, app, size=len(data))
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["version"]["status"] == "uploading"
    assert body["upload_method"] == "PUT"
    assert body["upload_headers"]["Content-Type"] == "application/octet-stream"
    assert body["upload_expires"].endswith("Z")
    vid = body["version"]["id"]

    # The signed URL needs no credential: an anonymous client uploads.
    from rest_framework.test import APIClient

    uploaded = upload_locally(APIClient(), body, data)
    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.json() == {"size": len(data)}

    with django_capture_on_commit_callbacks(execute=True):
        completed = auth_client.put(
            version_url(app, vid, "/upload-complete"),
            {"signature": signature, "signing_key_id": str(key.id)},
            format="json",
        )
    assert completed.status_code == 200, completed.json()
    assert completed.json()["status"] == "validating"

    version = auth_client.get(version_url(app, vid)).json()
    assert version["status"] == "draft", version["validation_report"]
    assert version["sha256"] == hashlib.sha256(data).hexdigest()
    assert version["package_size"] == len(data)
    assert version["permissions"] == ["network", "camera"] or set(version["permissions"]) == {
        "network",
        "camera",
    }
    assert version["sensitive_permissions"] == ["camera"]
    assert version["languages"] == ["de", "en"]
    assert version["dependencies"] == {"com.example.sync": "^2.1.0"}
    assert version["min_mosis_version"] == "1.2"
    assert version["max_mosis_version"] == "2.9"
    assert version["signature"] == signature
    assert version["signing_key_fingerprint"] == key.fingerprint
    assert version["validation_report"]["ok"] is True
    stored = AppVersion.objects.get(pk=vid)
    assert stored.icon_key == f"apps/{app.id}/{vid}-icon.png"
    assert stored.min_mosis_num == 1_002_000

    submitted = auth_client.post(version_url(app, vid, "/submit"))
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "review"
    assert submitted.json()["submitted_at"]

    with django_capture_on_commit_callbacks(execute=True):
        version_review(version=stored, reviewer=staff_user, decision="approve", notes="Looks good.")
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "approved" in mail.outbox[0].subject

    published = auth_client.post(version_url(app, vid, "/publish"))
    assert published.status_code == 200
    assert published.json()["status"] == "published"
    assert published.json()["published_at"]
    assert App.objects.get(pk=app.pk).status == "published"

    yanked = auth_client.post(version_url(app, vid, "/yank"))
    assert yanked.status_code == 200
    assert yanked.json()["status"] == "published"
    assert yanked.json()["yanked_at"]

    listing = auth_client.get(f"/v1/apps/{app.id}/versions")
    assert listing.status_code == 200
    assert listing.json()["total"] == 1
    assert [v["id"] for v in listing.json()["versions"]] == [vid]
    events = list(stored.events.order_by("created_at").values_list("type", flat=True))
    assert events == [
        "version.created",
        "version.upload_completed",
        "version.validated",
        "version.submitted",
        "version.approved",
        "version.published",
        "version.yanked",
    ]
    # The package is immutable once uploaded.
    again = auth_client.put(
        local_path_of(body["upload_url"]), data=data, content_type="application/octet-stream"
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "CONFLICT"
