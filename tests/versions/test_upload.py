"""The local upload endpoint ``PUT /v1/uploads/<token>`` (embedded stand-in for a presigned S3 PUT)."""

import os

import pytest
from django.core import signing
from django.test import RequestFactory

from mosis.core import storage
from tests.factories import AppFactory
from tests.versions.pipeline import (
    create_version,
    local_path_of,
    manifest_for,
    package_bytes,
    signed_completion,
    upload_locally,
)
from versions.models import AppVersion
from versions.views import LocalUploadView

pytestmark = pytest.mark.django_db

LIMIT = 64 * 1024


@pytest.fixture
def small_limit(settings):
    settings.MAX_PACKAGE_SIZE = LIMIT


@pytest.fixture
def app(user):
    return AppFactory(owner=user, package_id="com.example.uploads")


def _files_under(root: str) -> list[str]:
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


class EndlessBody:
    """A request body far bigger than the limit, produced lazily; counts what the server pulled."""

    def __init__(self, total: int):
        self.total = total
        self.consumed = 0

    def read(self, size: int = -1) -> bytes:
        size = self.total - self.consumed if size is None or size < 0 else size
        chunk = min(size, self.total - self.consumed)
        self.consumed += chunk
        return b"\0" * chunk


def test_upload_bigger_than_limit_is_refused_while_streaming(auth_client, app, small_limit, no_ratelimits):
    """A client whose Content-Length understates the body (a proxy re-chunking, a liar) is cut off as soon as
    the limit is passed: the server reads at most one chunk past it, and the partial file is removed."""
    created = create_version(auth_client, app).json()
    path = local_path_of(created["upload_url"])
    request = RequestFactory().generic("PUT", path, data=b"x", content_type="application/octet-stream")
    body = EndlessBody(total=200 * 1024 * 1024)
    request._stream = body
    token = path.rsplit("/", 1)[-1]

    response = LocalUploadView.as_view()(request, token=token)

    assert response.status_code == 413
    assert b"PAYLOAD_TOO_LARGE" in response.content
    assert body.consumed <= LIMIT + storage.CHUNK
    assert _files_under(storage.package_storage().location) == []
    assert AppVersion.objects.get(pk=created["version"]["id"]).status == "uploading"


def test_declared_content_length_over_limit_is_refused_before_reading(
    auth_client, app, small_limit, no_ratelimits
):
    created = create_version(auth_client, app).json()
    response = upload_locally(auth_client, created, b"\0" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert _files_under(storage.package_storage().location) == []


def test_version_create_with_declared_size_over_limit_is_413(auth_client, app, small_limit, no_ratelimits):
    response = create_version(auth_client, app, size=LIMIT + 1)
    assert response.status_code == 413
    assert AppVersion.objects.count() == 0


def test_upload_must_match_the_declared_size(auth_client, app, no_ratelimits):
    created = create_version(auth_client, app, size=10).json()
    response = upload_locally(auth_client, created, b"0123456789A")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"Content-Length": ["Must be 10."]}


def test_upload_needs_the_signed_content_type(auth_client, app, no_ratelimits):
    created = create_version(auth_client, app).json()
    response = auth_client.put(local_path_of(created["upload_url"]), data=b"PK", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_tampered_or_expired_upload_url_is_forbidden(auth_client, app, no_ratelimits, settings):
    created = create_version(auth_client, app).json()
    path = local_path_of(created["upload_url"])
    tampered = auth_client.put(path[:-3] + "abc", data=b"PK", content_type="application/octet-stream")
    assert tampered.status_code == 403
    settings.UPLOAD_URL_TTL = -1
    expired = upload_locally(auth_client, created, b"PK")
    assert expired.status_code == 403
    assert "expired" in expired.json()["error"]["message"]


def test_upload_needs_a_body(auth_client, app, no_ratelimits):
    created = create_version(auth_client, app).json()
    response = upload_locally(auth_client, created, b"")
    assert response.status_code == 400


def test_only_put_is_allowed(auth_client, app, no_ratelimits):
    created = create_version(auth_client, app).json()
    response = auth_client.post(
        local_path_of(created["upload_url"]), data=b"PK", content_type="application/octet-stream"
    )
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_package_is_immutable_once_upload_completed(
    auth_client, app, no_ratelimits, django_capture_on_commit_callbacks
):
    data = package_bytes(manifest_for(app))
    created = create_version(auth_client, app).json()
    assert upload_locally(auth_client, created, data).status_code == 200
    # A local upload URL takes one upload: a second PUT is refused and changes nothing.
    again = upload_locally(auth_client, created, b"PK-replaced")
    assert again.status_code == 409
    assert "already used" in again.json()["error"]["message"]
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.put(
            f"/v1/apps/{app.id}/versions/{created['version']['id']}/upload-complete", {}, format="json"
        )
    response = upload_locally(auth_client, created, b"PK-other")
    assert response.status_code == 409
    assert "immutable" in response.json()["error"]["message"]


def test_upload_for_a_deleted_version_is_404(auth_client, app, no_ratelimits):
    created = create_version(auth_client, app).json()
    auth_client.delete(f"/v1/apps/{app.id}/versions/{created['version']['id']}")
    assert upload_locally(auth_client, created, b"PK").status_code == 404


def test_upload_token_cannot_be_forged_for_another_key(auth_client, app, no_ratelimits):
    token = signing.dumps({"k": "apps/x/y.mpk", "ct": "application/octet-stream", "n": None}, salt="other")
    response = auth_client.put(f"/v1/uploads/{token}", data=b"PK", content_type="application/octet-stream")
    assert response.status_code == 403


def test_local_upload_endpoint_is_off_with_s3_storage(auth_client, app, settings, no_ratelimits):
    created = create_version(auth_client, app).json()
    settings.STORAGE_BACKEND = "s3"
    assert upload_locally(auth_client, created, b"PK").status_code == 404


class HeldOpenBody:
    """An upload body whose sender holds the connection open: before its first byte arrives, ``meanwhile``
    runs (the version is completed, validated, approved and published through other requests)."""

    def __init__(self, data: bytes, meanwhile):
        self.data = data
        self.meanwhile = meanwhile
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        if self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            meanwhile()
        size = len(self.data) - self.offset if size is None or size < 0 else size
        chunk = self.data[self.offset : self.offset + size]
        self.offset += len(chunk)
        return chunk


def test_an_upload_held_open_while_the_version_is_published_never_lands(
    auth_client, app, staff_user, no_ratelimits, django_capture_on_commit_callbacks
):
    """The attack of issue "Trust" §1: start a PUT, keep it open while the real package is uploaded,
    validated, approved and published, then let it finish. It must be refused and change nothing."""
    import hashlib

    from versions.services import version_review

    good = package_bytes(manifest_for(app))
    evil = package_bytes(manifest_for(app), files={"payload.js": b"steal()"})
    created = create_version(auth_client, app).json()
    vid = created["version"]["id"]
    path = local_path_of(created["upload_url"])

    def meanwhile():
        assert upload_locally(auth_client, created, good).status_code == 200
        with django_capture_on_commit_callbacks(execute=True):
            auth_client.put(
                f"/v1/apps/{app.id}/versions/{vid}/upload-complete",
                signed_completion(app.owner, good),
                format="json",
            )
        assert auth_client.post(f"/v1/apps/{app.id}/versions/{vid}/submit").status_code == 200
        version_review(version=AppVersion.objects.get(pk=vid), reviewer=staff_user, decision="approve")
        with django_capture_on_commit_callbacks(execute=True):
            assert auth_client.post(f"/v1/apps/{app.id}/versions/{vid}/publish").status_code == 200

    request = RequestFactory().generic("PUT", path, data=evil, content_type="application/octet-stream")
    request._stream = HeldOpenBody(evil, meanwhile)
    response = LocalUploadView.as_view()(request, token=path.rsplit("/", 1)[-1])

    assert response.status_code == 409
    version = AppVersion.objects.get(pk=vid)
    assert version.status == "published"
    assert version.sha256 == hashlib.sha256(good).hexdigest()
    info = auth_client.get(f"/v1/store/apps/{app.package_id}/download").json()
    assert info["sha256"] == version.sha256
    served = auth_client.get(local_path_of(info["download_url"]))
    assert hashlib.sha256(b"".join(served.streaming_content)).hexdigest() == version.sha256


def test_a_fresh_upload_url_replaces_the_old_one(auth_client, app, no_ratelimits):
    created = create_version(auth_client, app).json()
    fresh = auth_client.post(f"/v1/apps/{app.id}/versions/{created['version']['id']}/upload-url")
    assert fresh.status_code == 200
    assert fresh.json()["upload_url"] != created["upload_url"]
    data = package_bytes(manifest_for(app))
    assert upload_locally(auth_client, created, data).status_code == 409  # the replaced URL
    assert upload_locally(auth_client, fresh.json(), data).status_code == 200


def test_upload_urls_live_at_most_fifteen_minutes(auth_client, app, no_ratelimits):
    from datetime import timedelta

    from django.utils import timezone

    created = create_version(auth_client, app).json()
    version = AppVersion.objects.get(pk=created["version"]["id"])
    assert version.upload_expires_at <= timezone.now() + timedelta(minutes=15)


def test_upload_url_ttl_setting_is_capped_at_fifteen_minutes(monkeypatch):
    import importlib

    import mosis.settings.base as base

    monkeypatch.setenv("UPLOAD_URL_TTL", "86400")
    try:
        assert importlib.reload(base).UPLOAD_URL_TTL == 900
    finally:
        monkeypatch.delenv("UPLOAD_URL_TTL")
        importlib.reload(base)
