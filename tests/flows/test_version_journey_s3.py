"""The same journey with ``STORAGE=s3`` against moto's S3 server on 127.0.0.1: the test PUTs the package to
the real presigned URL over HTTP, and validation streams it back from the bucket."""

import hashlib
import socket
from urllib.parse import urlsplit

import boto3
import pytest
import requests

from tests.factories import AppFactory
from tests.versions.pipeline import (
    create_version,
    manifest_for,
    package_bytes,
    signed_completion,
    version_url,
)
from versions.models import AppVersion
from versions.services import version_review

pytestmark = [pytest.mark.django_db, pytest.mark.network]

BUCKET = "mosis-test-packages"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_storage(settings, moto_endpoint, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    client = boto3.client("s3", endpoint_url=moto_endpoint, **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    settings.STORAGE_BACKEND = "s3"
    settings.STORAGES = {
        **settings.STORAGES,
        "packages": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "location": "packages",
                "bucket_name": BUCKET,
                "endpoint_url": moto_endpoint,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "region_name": CREDENTIALS["region_name"],
                "addressing_style": "path",
                "signature_version": "s3v4",
                "file_overwrite": False,
            },
        },
    }
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


def test_developer_publishes_through_a_presigned_s3_put(
    auth_client, user, staff_user, s3_storage, no_ratelimits, django_capture_on_commit_callbacks
):
    app = AppFactory(owner=user, package_id="com.example.cloudnotes", name="Cloud Notes")
    data = package_bytes(manifest_for(app), languages=["fr"])

    created = create_version(auth_client, app, size=len(data))
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["upload_url"].startswith("http://127.0.0.1:")
    assert "X-Amz-Signature" in body["upload_url"]
    vid = body["version"]["id"]

    session = requests.Session()
    session.trust_env = False
    put = session.put(body["upload_url"], data=data, headers=body["upload_headers"], timeout=10)
    assert put.status_code == 200, put.text
    upload_key = f"packages/uploads/{app.id}/{vid}.mpk"
    assert s3_storage.head_object(Bucket=BUCKET, Key=upload_key)["ContentLength"] == len(data)

    with django_capture_on_commit_callbacks(execute=True):
        completed = auth_client.put(
            version_url(app, vid, "/upload-complete"), signed_completion(user, data), format="json"
        )
    assert completed.status_code == 200, completed.json()

    version = auth_client.get(version_url(app, vid)).json()
    assert version["status"] == "draft", version["validation_report"]
    assert version["sha256"] == hashlib.sha256(data).hexdigest()
    assert version["languages"] == ["fr"]
    icon_key = f"packages/apps/{app.id}/{vid}-icon.png"
    assert s3_storage.head_object(Bucket=BUCKET, Key=icon_key)["ContentLength"] > 0

    assert auth_client.post(version_url(app, vid, "/submit")).json()["status"] == "review"
    version_review(version=AppVersion.objects.get(pk=vid), reviewer=staff_user, decision="approve", notes="")
    with django_capture_on_commit_callbacks(execute=True):
        published = auth_client.post(version_url(app, vid, "/publish"))
    assert published.json()["status"] == "published"

    # The store shows the icon packaged in it and answers it from the bucket, at a stable URL.
    listing = auth_client.get(f"/v1/store/apps/{app.package_id}").json()
    icon = auth_client.get(urlsplit(listing["icon_url"]).path)
    assert icon.status_code == 200 and icon["Content-Type"] == "image/png"
    assert icon.content == s3_storage.get_object(Bucket=BUCKET, Key=icon_key)["Body"].read()

    # The package now lives at its content-addressed key, which no upload URL can write; the upload object
    # is gone.
    sha256 = hashlib.sha256(data).hexdigest()
    assert AppVersion.objects.get(pk=vid).package_key == f"sha256/{sha256}.mpk"
    assert s3_storage.list_objects_v2(Bucket=BUCKET, Prefix="packages/uploads/").get("KeyCount") == 0

    # The attack: the presigned PUT URL is still valid (S3 cannot revoke it), and S3 takes the evil bytes...
    evil = package_bytes(manifest_for(app), files={"payload.js": b"steal()"})
    replaced = session.put(
        body["upload_url"],
        data=evil[: len(data)].ljust(len(data), b"\0"),
        headers=body["upload_headers"],
        timeout=10,
    )
    assert replaced.status_code == 200
    # ...but nothing reads that key again: the download serves the bytes that were validated and signed.
    info = auth_client.get(f"/v1/store/apps/{app.package_id}/download").json()
    assert info["sha256"] == sha256
    served = session.get(info["download_url"], timeout=10)
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == sha256


def test_upload_complete_without_an_uploaded_object_is_refused(auth_client, user, s3_storage, no_ratelimits):
    app = AppFactory(owner=user)
    created = create_version(auth_client, app).json()
    response = auth_client.put(
        version_url(app, created["version"]["id"], "/upload-complete"), {}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"package": ["Not uploaded."]}
