"""``/v1/apps/{id}/versions``: owner-only access, scopes, version_code rules, transitions, lists."""

import pytest

from accounts.models import ApiKey
from accounts.tokens import hash_secret, new_api_key_secret
from apps.models import App
from mosis.core import storage
from tests.conftest import jwt_client_for
from tests.factories import AppFactory, AppVersionFactory
from tests.versions.pipeline import (
    create_version,
    local_path_of,
    manifest_for,
    package_bytes,
    signed_completion,
    upload_and_validate,
    upload_locally,
    version_url,
)
from versions.constants import VersionStatus
from versions.models import AppVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(user):
    return AppFactory(owner=user, package_id="com.example.api")


def api_key_client(user, scopes):
    from rest_framework.test import APIClient

    secret = new_api_key_secret()
    ApiKey.objects.create(
        user=user, name="ci", key_prefix=secret[:12], key_hash=hash_secret(secret), scopes=scopes
    )
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)
    return client


def error(response):
    return response.json()["error"]


# --- authorization --------------------------------------------------------------------------------------
def test_another_developer_cannot_read_upload_submit_or_publish_your_versions(
    auth_client, other_client, app, no_ratelimits, django_capture_on_commit_callbacks
):
    draft = upload_and_validate(
        auth_client, app, package_bytes(manifest_for(app)), django_capture_on_commit_callbacks
    )
    approved = AppVersionFactory(app=app, status=VersionStatus.APPROVED, version_code=5)
    attempts = [
        other_client.get(f"/v1/apps/{app.id}/versions"),
        other_client.post(
            f"/v1/apps/{app.id}/versions", {"version_name": "2.0.0", "version_code": 9}, format="json"
        ),
        other_client.get(version_url(app, draft["id"])),
        other_client.put(version_url(app, draft["id"], "/upload-complete"), {}, format="json"),
        other_client.post(version_url(app, draft["id"], "/submit")),
        other_client.post(version_url(app, approved.id, "/publish")),
        other_client.post(version_url(app, approved.id, "/yank")),
        other_client.delete(version_url(app, draft["id"])),
    ]
    assert [r.status_code for r in attempts] == [404] * len(attempts)
    assert {error(r)["code"] for r in attempts} == {"NOT_FOUND"}
    assert AppVersion.objects.get(pk=draft["id"]).status == VersionStatus.DRAFT
    assert AppVersion.objects.get(pk=approved.id).status == VersionStatus.APPROVED
    assert AppVersion.objects.filter(app=app).count() == 2


def test_anonymous_client_is_401(api_client, app):
    assert api_client.get(f"/v1/apps/{app.id}/versions").status_code == 401


def test_device_token_is_not_a_developer_credential(api_client, app):
    from accounts.models import Device
    from accounts.tokens import new_device_token

    token = new_device_token()
    Device.objects.create(platform="mosis-os", mosis_version="1.5", token_hash=hash_secret(token))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get(f"/v1/apps/{app.id}/versions").status_code == 401


def test_a_developer_has_no_api_to_approve(auth_client, app, no_ratelimits):
    version = AppVersionFactory(app=app, status=VersionStatus.REVIEW)
    for suffix in ("/approve", "/review", "/reject"):
        response = auth_client.post(version_url(app, version.id, suffix), {"notes": "ok"}, format="json")
        assert response.status_code == 404
    version.refresh_from_db()
    assert version.status == VersionStatus.REVIEW


def test_status_is_not_writable_through_the_version_api(auth_client, app, no_ratelimits):
    version = AppVersionFactory(app=app, status=VersionStatus.DRAFT)
    response = auth_client.patch(version_url(app, version.id), {"status": "published"}, format="json")
    assert response.status_code == 405
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT


def test_scopes_are_required_per_action(user, app, no_ratelimits):
    reader = api_key_client(user, ["apps:read"])
    assert reader.get(f"/v1/apps/{app.id}/versions").status_code == 200
    refused = reader.post(
        f"/v1/apps/{app.id}/versions", {"version_name": "1.0.0", "version_code": 1}, format="json"
    )
    assert refused.status_code == 403
    assert "versions:upload" in error(refused)["message"]

    uploader = api_key_client(user, ["versions:upload"])
    approved = AppVersionFactory(app=app, status=VersionStatus.APPROVED)
    refused = uploader.post(version_url(app, approved.id, "/publish"))
    assert refused.status_code == 403
    assert error(refused)["details"] == {"required_scope": ["versions:publish"]}

    publisher = api_key_client(user, ["versions:publish"])
    assert publisher.post(version_url(app, approved.id, "/publish")).json()["status"] == "published"


# --- create ---------------------------------------------------------------------------------------------
def test_version_code_must_increase(auth_client, app, no_ratelimits):
    assert create_version(auth_client, app, version_code=3, version_name="1.0.0").status_code == 201
    for code in (3, 2):
        response = create_version(auth_client, app, version_code=code, version_name="1.0.1")
        assert response.status_code == 409
        assert error(response)["code"] == "CONFLICT"
        assert "version_code" in error(response)["details"]
    assert create_version(auth_client, app, version_code=4, version_name="1.0.1").status_code == 201


def test_version_name_must_be_semver(auth_client, app, no_ratelimits):
    response = create_version(auth_client, app, version_name="1.0")
    assert response.status_code == 400
    assert "version_name" in error(response)["details"]


def test_create_validates_the_body(auth_client, app, no_ratelimits):
    response = auth_client.post(f"/v1/apps/{app.id}/versions", {"version_code": 0}, format="json")
    assert response.status_code == 400
    assert set(error(response)["details"]) == {"version_name", "version_code"}


def test_create_is_idempotent_with_a_key(auth_client, app, no_ratelimits):
    body = {"version_name": "1.0.0", "version_code": 1}
    first = auth_client.post(f"/v1/apps/{app.id}/versions", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = auth_client.post(f"/v1/apps/{app.id}/versions", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert first.json()["version"]["id"] == again.json()["version"]["id"]
    assert AppVersion.objects.filter(app=app).count() == 1


def test_create_answers_the_upload_target(auth_client, app, no_ratelimits):
    response = create_version(auth_client, app, size=1234)
    body = response.json()
    assert set(body) == {"version", "upload_url", "upload_expires", "upload_method", "upload_headers"}
    assert body["upload_url"].startswith("http://")
    assert "/v1/uploads/" in body["upload_url"]
    version = AppVersion.objects.get(pk=body["version"]["id"])
    assert version.upload_key == f"uploads/{app.id}/{version.id}.mpk"
    assert version.package_key == ""  # nothing is sealed before upload-complete
    assert version.declared_size == 1234
    assert version.upload_expires_at is not None


def test_upload_is_rate_limited_as_upload(auth_client, app, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "upload": "2/h"}
    codes = [
        create_version(auth_client, app, version_code=n, version_name=f"1.0.{n}").status_code
        for n in (1, 2, 3)
    ]
    assert codes == [201, 201, 429]
    assert auth_client.get(f"/v1/apps/{app.id}/versions").status_code == 200


# --- transitions ----------------------------------------------------------------------------------------
def test_invalid_transitions_are_409_naming_the_state(auth_client, app, no_ratelimits):
    uploading = create_version(auth_client, app).json()["version"]
    response = auth_client.post(version_url(app, uploading["id"], "/submit"))
    assert response.status_code == 409
    assert "'uploading'" in error(response)["message"]
    draft = AppVersionFactory(app=app, status=VersionStatus.DRAFT, version_code=10)
    for suffix in ("/publish", "/yank"):
        response = auth_client.post(version_url(app, draft.id, suffix))
        assert response.status_code == 409
        assert "'draft'" in error(response)["message"]
    response = auth_client.put(version_url(app, draft.id, "/upload-complete"), {}, format="json")
    assert response.status_code == 409
    published = AppVersionFactory(app=app, status=VersionStatus.PUBLISHED, version_code=11)
    response = auth_client.delete(version_url(app, published.id))
    assert response.status_code == 409
    assert "'published'" in error(response)["message"]


def test_submit_twice_is_409_naming_the_state(auth_client, app, no_ratelimits):
    """SPEC §6: a transition not allowed from the current state is a 409, also to the state it is in."""
    draft = AppVersionFactory(app=app, status=VersionStatus.DRAFT)
    assert auth_client.post(version_url(app, draft.id, "/submit")).json()["status"] == "review"
    again = auth_client.post(version_url(app, draft.id, "/submit"))
    assert again.status_code == 409
    assert "'review'" in error(again)["message"]
    assert draft.events.filter(type="version.submitted").count() == 1


def test_publish_twice_is_409_but_an_idempotency_replay_returns_the_first_answer(
    auth_client, app, no_ratelimits
):
    approved = AppVersionFactory(app=app, status=VersionStatus.APPROVED)
    url = version_url(app, approved.id, "/publish")
    first = auth_client.post(url, HTTP_IDEMPOTENCY_KEY="publish-1")
    replay = auth_client.post(url, HTTP_IDEMPOTENCY_KEY="publish-1")
    again = auth_client.post(url)
    assert first.status_code == replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert again.status_code == 409
    assert "'published'" in error(again)["message"]


def test_upload_complete_requires_an_uploaded_package(auth_client, app, no_ratelimits):
    created = create_version(auth_client, app).json()
    response = auth_client.put(
        version_url(app, created["version"]["id"], "/upload-complete"), {}, format="json"
    )
    assert response.status_code == 400
    assert error(response)["details"] == {"package": ["Not uploaded."]}


def test_upload_complete_refuses_an_unknown_signing_key(auth_client, app, no_ratelimits):
    created = create_version(auth_client, app).json()
    upload_locally(auth_client, created, package_bytes(manifest_for(app)))
    response = auth_client.put(
        version_url(app, created["version"]["id"], "/upload-complete"),
        {"signature": "AAAA", "signing_key_id": "6d1f7a43-0d55-4a3e-b8a6-2d5f8f2c3d11"},
        format="json",
    )
    assert response.status_code == 400
    assert "signing_key_id" in error(response)["details"]


def test_upload_complete_refuses_a_revoked_signing_key_and_keeps_the_upload(
    auth_client, app, user, no_ratelimits
):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    from accounts.services import signing_key_register, signing_key_revoke

    pem = (
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    key = signing_key_revoke(key=signing_key_register(user=user, name="old", public_key=pem))
    created = create_version(auth_client, app).json()
    upload_locally(auth_client, created, package_bytes(manifest_for(app)))
    response = auth_client.put(
        version_url(app, created["version"]["id"], "/upload-complete"),
        {"signature": "AAAA", "signing_key_id": str(key.pk)},
        format="json",
    )
    assert response.status_code == 400
    assert error(response)["details"] == {"signing_key_id": ["Revoked."]}
    version = AppVersion.objects.get(pk=created["version"]["id"])
    assert version.status == VersionStatus.UPLOADING  # nothing lost: complete again with an active key
    assert storage.object_size(version.package_key)


@pytest.mark.parametrize("body", [{}, {"signature": ""}, {"signature": " \n "}])
def test_a_signing_key_id_without_a_signature_is_400_never_unsigned(
    auth_client, app, user, body, no_ratelimits
):
    """Issue 20 §5: naming a key with an empty or missing signature was accepted as "unsigned"."""
    from tests.versions.pipeline import register_signing_key

    key, _ = register_signing_key(user)
    created = create_version(auth_client, app).json()
    upload_locally(auth_client, created, package_bytes(manifest_for(app)))
    response = auth_client.put(
        version_url(app, created["version"]["id"], "/upload-complete"),
        {**body, "signing_key_id": str(key.pk)},
        format="json",
    )
    assert response.status_code == 400, response.json()
    assert error(response)["details"] == {"signature": ["Required when signing_key_id is given."]}
    assert AppVersion.objects.get(pk=created["version"]["id"]).status == VersionStatus.UPLOADING


def test_delete_removes_the_version_and_its_package(
    auth_client, app, no_ratelimits, django_capture_on_commit_callbacks
):
    draft = upload_and_validate(
        auth_client, app, package_bytes(manifest_for(app)), django_capture_on_commit_callbacks
    )
    version = AppVersion.objects.get(pk=draft["id"])
    assert storage.object_size(version.package_key)
    assert storage.object_size(version.icon_key)
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.delete(version_url(app, draft["id"]))
    assert response.json() == {"success": True}
    assert not AppVersion.objects.filter(pk=draft["id"]).exists()
    assert storage.object_size(version.package_key) is None
    assert storage.object_size(version.icon_key) is None
    assert app.events.filter(type="version.deleted").count() == 1


def test_yank_keeps_the_version_published(auth_client, app, no_ratelimits):
    published = AppVersionFactory(app=app, status=VersionStatus.PUBLISHED)
    first = auth_client.post(version_url(app, published.id, "/yank")).json()
    second = auth_client.post(version_url(app, published.id, "/yank")).json()
    assert first["status"] == second["status"] == "published"
    assert first["yanked_at"] == second["yanked_at"] is not None


def test_unknown_or_malformed_version_id_is_404(auth_client, app):
    assert auth_client.get(version_url(app, "6d1f7a43-0d55-4a3e-b8a6-2d5f8f2c3d11")).status_code == 404
    assert auth_client.get(f"/v1/apps/{app.id}/versions/not-a-uuid").status_code == 404


# --- list -----------------------------------------------------------------------------------------------
def test_list_filters_by_status_and_paginates(auth_client, app):
    for code in range(1, 6):
        AppVersionFactory(
            app=app, version_code=code, status=VersionStatus.DRAFT if code % 2 else VersionStatus.REVIEW
        )
    AppVersionFactory(version_code=1)  # someone else's app
    body = auth_client.get(f"/v1/apps/{app.id}/versions?limit=2&page=2").json()
    assert [v["version_code"] for v in body["versions"]] == [3, 2]
    assert body["total"] == 5
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 5, "total_pages": 3, "total_exact": True}
    drafts = auth_client.get(f"/v1/apps/{app.id}/versions?status=draft").json()
    assert [v["version_code"] for v in drafts["versions"]] == [5, 3, 1]
    assert auth_client.get(f"/v1/apps/{app.id}/versions?status=bogus").status_code == 400


@pytest.mark.parametrize("count", [1, 50])
def test_list_query_count_does_not_grow_with_items(user, app, count, django_assert_num_queries):
    for code in range(1, count + 1):
        AppVersionFactory(app=app, version_code=code)
    client = jwt_client_for(user)
    # user (JWT), app (owner policy), count, page (with its app: each package_url is signed without a query)
    with django_assert_num_queries(4):
        response = client.get(f"/v1/apps/{app.id}/versions?limit=100")
    assert len(response.json()["versions"]) == count
    assert all(version["package_url"] for version in response.json()["versions"])


def test_version_body_has_the_seed_fields(auth_client, app):
    version = AppVersionFactory(app=app)
    body = auth_client.get(version_url(app, version.id)).json()
    for name in (
        "id",
        "app_id",
        "version_name",
        "version_code",
        "package_size",
        "signature",
        "permissions",
        "min_mosis_version",
        "release_notes",
        "status",
        "review_notes",
        "published_at",
        "created_at",
        "sha256",
        "validation_report",
        "dependencies",
        "languages",
        "max_mosis_version",
        "yanked_at",
    ):
        assert name in body
    assert body["app_id"] == str(app.id)
    assert body["review_notes"] is None


def test_upload_complete_refuses_and_deletes_an_oversize_object(auth_client, app, settings, no_ratelimits):
    """S3 may hold an object bigger than the limit (e.g. a presigned URL without a declared size)."""
    created = create_version(auth_client, app).json()
    key = AppVersion.objects.get(pk=created["version"]["id"]).upload_key
    storage.put_bytes(key, b"\0" * 2048)
    settings.MAX_PACKAGE_SIZE = 1024
    response = auth_client.put(
        version_url(app, created["version"]["id"], "/upload-complete"), {}, format="json"
    )
    assert response.status_code == 413
    assert storage.object_size(key) is None
    version = AppVersion.objects.get(pk=created["version"]["id"])
    assert version.status == VersionStatus.UPLOADING
    assert version.package_key == ""  # nothing sealed was kept


def test_a_version_name_is_never_reused_within_an_app(auth_client, app, no_ratelimits):
    assert create_version(auth_client, app, version_code=1, version_name="1.0.0").status_code == 201
    again = create_version(auth_client, app, version_code=2, version_name="1.0.0")
    assert again.status_code == 409
    assert error(again)["details"] == {"version_name": ["Already used by another version of this app."]}


@pytest.mark.parametrize("status", ["disabled", "suspended"])
def test_an_app_taken_off_the_store_accepts_no_new_versions(auth_client, app, status, no_ratelimits):
    App.objects.filter(pk=app.pk).update(status=status)
    response = create_version(auth_client, app)
    assert response.status_code == 409
    assert f"'{status}'" in error(response)["message"]
    assert not AppVersion.objects.filter(app=app).exists()


def test_the_owner_gets_a_short_lived_url_of_their_own_package(
    auth_client, app, no_ratelimits, django_capture_on_commit_callbacks
):
    """Seed 000's ``AppVersion.package_url``: null before upload-complete, then a signed URL that serves the
    very bytes that were uploaded, whatever the version's state."""
    import hashlib

    data = package_bytes(manifest_for(app))
    created = create_version(auth_client, app, size=len(data)).json()
    assert created["version"]["package_url"] is None
    upload_locally(auth_client, created, data)
    vid = created["version"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.put(
            version_url(app, vid, "/upload-complete"), signed_completion(app.owner, data), format="json"
        )
    version = auth_client.get(version_url(app, vid)).json()
    assert version["status"] == "draft"
    served = auth_client.get(local_path_of(version["package_url"]))
    assert served.status_code == 200
    assert hashlib.sha256(b"".join(served.streaming_content)).hexdigest() == hashlib.sha256(data).hexdigest()
    assert f"{app.package_id}-1.0.0.mpk" in served["Content-Disposition"]
