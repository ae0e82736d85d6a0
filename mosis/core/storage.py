"""Package storage behind one interface (STYLE §5): local files in embedded mode, S3 in production.

Both sides hand out URLs the client uses directly:
- S3: real presigned ``PUT``/``GET`` URLs (boto3 through django-storages' client);
- local: URLs to this server signed with ``django.core.signing`` that expire, served by streaming views
  (``/v1/uploads/<token>`` in ``versions``, ``/v1/files/<token>`` in ``store``).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.files.storage import storages
from django.urls import reverse

UPLOAD_SALT = "mosis.upload"
DOWNLOAD_SALT = "mosis.download"
CHUNK = 1024 * 1024


def package_storage():
    return storages["packages"]


def is_s3() -> bool:
    return settings.STORAGE_BACKEND == "s3"


def _s3_client():
    storage = package_storage()
    return storage.connection.meta.client, storage.bucket_name, storage.location


def _s3_key(key: str) -> str:
    location = package_storage().location
    return f"{location.rstrip('/')}/{key}" if location else key


def _absolute(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{path}"


@dataclass(frozen=True)
class UploadTarget:
    url: str
    method: str
    headers: dict


def presigned_upload(
    key: str, *, content_type: str, content_length: int | None, expires: int
) -> UploadTarget:
    """A URL the client PUTs the package body to. The size and content type are bound into the signature."""
    if is_s3():
        client, bucket, _ = _s3_client()
        params = {"Bucket": bucket, "Key": _s3_key(key), "ContentType": content_type}
        headers = {"Content-Type": content_type}
        if content_length is not None:
            params["ContentLength"] = content_length
            headers["Content-Length"] = str(content_length)
        url = client.generate_presigned_url("put_object", Params=params, ExpiresIn=expires, HttpMethod="PUT")
        return UploadTarget(url=url, method="PUT", headers=headers)
    token = signing.dumps(
        {"k": key, "ct": content_type, "n": content_length}, salt=UPLOAD_SALT, compress=True
    )
    return UploadTarget(
        url=_absolute(reverse("local-upload", args=[token])),
        method="PUT",
        headers={"Content-Type": content_type},
    )


def read_upload_token(token: str, max_age: int) -> dict:
    """Decode a local upload token; raises ``signing.BadSignature``/``SignatureExpired``."""
    return signing.loads(token, salt=UPLOAD_SALT, max_age=max_age)


def presigned_download(key: str, *, filename: str, expires: int) -> str:
    if is_s3():
        client, bucket, _ = _s3_client()
        return client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": bucket,
                "Key": _s3_key(key),
                "ResponseContentDisposition": f'attachment; filename="{filename}"',
                "ResponseContentType": "application/octet-stream",
            },
            ExpiresIn=expires,
        )
    token = signing.dumps({"k": key, "f": filename}, salt=DOWNLOAD_SALT, compress=True)
    return _absolute(reverse("local-download", args=[token]))


def read_download_token(token: str, max_age: int) -> dict:
    return signing.loads(token, salt=DOWNLOAD_SALT, max_age=max_age)


def save_stream(key: str, stream, *, max_size: int) -> int:
    """Write a local upload from a file-like stream chunk by chunk; raises ``TooLarge`` past ``max_size``.

    Never holds the body in memory; a partial file is removed on failure.
    """
    path = local_path(key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".upload-")
    written = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                written += len(chunk)
                if written > max_size:
                    raise TooLarge(max_size)
                out.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return written


class TooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


def local_path(key: str) -> str:
    return package_storage().path(key)


def object_size(key: str) -> int | None:
    storage = package_storage()
    try:
        return storage.size(key) if storage.exists(key) else None
    except Exception:  # noqa: BLE001 - a missing object on S3 raises various client errors
        return None


def delete_object(key: str) -> None:
    storage = package_storage()
    if storage.exists(key):
        storage.delete(key)


def put_bytes(key: str, data: bytes) -> None:
    """Small objects only (icons, demo data)."""
    from django.core.files.base import ContentFile

    storage = package_storage()
    if storage.exists(key):
        storage.delete(key)
    storage.save(key, ContentFile(data))


def put_file(key: str, path: str) -> None:
    storage = package_storage()
    if storage.exists(key):
        storage.delete(key)
    with open(path, "rb") as fh:
        from django.core.files import File

        storage.save(key, File(fh))


@contextmanager
def local_copy(key: str):
    """Yields a filesystem path holding the object: the file itself locally, a streamed temp copy from S3."""
    if not is_s3():
        yield local_path(key)
        return
    client, bucket, _ = _s3_client()
    fd, tmp = tempfile.mkstemp(prefix="mosis-pkg-")
    try:
        with os.fdopen(fd, "wb") as out:
            client.download_fileobj(bucket, _s3_key(key), out)
        yield tmp
    finally:
        os.unlink(tmp)


def open_stream(key: str):
    return package_storage().open(key, "rb")


def check_health() -> dict:
    """For /v1/health: can we reach the bucket or write to the directory?"""
    try:
        if is_s3():
            client, bucket, _ = _s3_client()
            client.head_bucket(Bucket=bucket)
        else:
            root = package_storage().location
            os.makedirs(root, exist_ok=True)
            if not os.access(root, os.W_OK):
                raise OSError(f"{root} is not writable")
        return {"enabled": True, "healthy": True, "error": None}
    except Exception as exc:  # noqa: BLE001 - health reports any failure
        return {"enabled": True, "healthy": False, "error": str(exc)[:200]}
