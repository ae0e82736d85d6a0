"""Helpers shared by the versions and flow tests: real packages, signing keys, and the upload journey
driven through HTTP exactly as a client does it."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import urlsplit

from accounts.models import SigningKey
from mosis_package import build_package, generate_signing_key, parse_public_key, sign_digest, sign_file
from versions.services import PACKAGE_CONTENT_TYPE


def manifest_for(app, version_code: int = 1, version_name: str = "1.0.0", **overrides) -> dict:
    manifest = {
        "package_id": app.package_id,
        "name": app.name,
        "version_name": version_name,
        "version_code": version_code,
        "min_mosis_version": "1.2",
        "max_mosis_version": "2.9",
        "permissions": ["network", "storage"],
        "dependencies": {},
        "requires_restart": False,
        "icon": "icon.png",
    }
    manifest.update(overrides)
    return manifest


def package_bytes(manifest: dict, **kwargs) -> bytes:
    out = io.BytesIO()
    build_package(out, manifest=manifest, **kwargs)
    return out.getvalue()


def write_package(tmp_path, manifest: dict, name: str = "pkg.mpk", **kwargs) -> str:
    path = tmp_path / name
    path.write_bytes(package_bytes(manifest, **kwargs))
    return str(path)


def register_signing_key(user, *, name: str = "release", revoked: bool = False):
    """A real Ed25519 key pair registered to ``user``; returns (SigningKey, private_key)."""
    from django.utils import timezone

    private_key, public_pem = generate_signing_key("ed25519")
    algorithm, fingerprint = parse_public_key(public_pem)
    key = SigningKey.objects.create(
        user=user,
        name=name,
        algorithm=algorithm,
        public_key=public_pem,
        fingerprint=fingerprint,
        revoked_at=timezone.now() if revoked else None,
    )
    return key, private_key


def sign_bytes(tmp_path, data: bytes, private_key) -> str:
    path = tmp_path / "to-sign.mpk"
    path.write_bytes(data)
    return sign_file(str(path), private_key)


def signed_completion(user, data: bytes) -> dict:
    """The upload-complete body of a package signed with a fresh key registered to ``user``."""
    key, private_key = register_signing_key(user)
    return {
        "signature": sign_digest(hashlib.sha256(data).digest(), private_key),
        "signing_key_id": str(key.id),
    }


def local_path_of(url: str) -> str:
    """The local upload URL is absolute (SITE_URL); the test client wants the path."""
    return urlsplit(url).path


def create_version(client, app, *, version_code=1, version_name="1.0.0", size=None, **extra):
    body = {"version_name": version_name, "version_code": version_code, "release_notes": "First."}
    if size is not None:
        body["size"] = size
    body.update(extra)
    return client.post(f"/v1/apps/{app.id}/versions", body, format="json")


def upload_locally(client, created: dict, data: bytes):
    return client.put(local_path_of(created["upload_url"]), data=data, content_type=PACKAGE_CONTENT_TYPE)


def version_url(app, version_id, suffix: str = "") -> str:
    return f"/v1/apps/{app.id}/versions/{version_id}{suffix}"


def upload_and_validate(
    client, app, data: bytes, capture, *, version_code=1, version_name="1.0.0", signed=True, **complete
):
    """create → PUT package → upload-complete (validation runs after commit) → fresh version body.

    The package is signed with a key registered to the app's owner (signatures are required in every mode)
    unless the test passes its own ``signature``/``signing_key_id`` or ``signed=False``.
    """
    if signed and not complete:
        complete = signed_completion(app.owner, data)
    created = create_version(
        client, app, version_code=version_code, version_name=version_name, size=len(data)
    )
    assert created.status_code == 201, created.json()
    created = created.json()
    assert upload_locally(client, created, data).status_code == 200
    vid = created["version"]["id"]
    with capture(execute=True):
        response = client.put(version_url(app, vid, "/upload-complete"), complete, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "validating"
    return client.get(version_url(app, vid)).json()
