"""The local upload endpoint ``PUT /v1/uploads/<token>`` (embedded stand-in for a presigned S3 PUT)."""

import os

import pytest
from django.core import signing
from django.test import RequestFactory

from mosis.core import storage
from tests.factories import AppFactory
from tests.versions.pipeline import create_version, local_path_of, manifest_for, package_bytes, upload_locally
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
    # Before upload-complete the developer may replace the upload (still "uploading").
    assert upload_locally(auth_client, created, data).status_code == 200
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
