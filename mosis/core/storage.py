"""Package storage behind one interface (STYLE §5): local files in embedded mode, S3 in production.

Both sides hand out URLs the client uses directly:
- S3: real presigned ``PUT``/``GET`` URLs (boto3 through django-storages' client);
- local: URLs to this server that expire, served by streaming views (``/v1/uploads/<token>`` in
  ``versions``, ``/v1/files/<token>`` in ``store``). Upload tokens are ``django.core.signing`` tokens.
  Download tokens, made on every download request, are a compact HMAC-SHA256 token
  (``<payload>.<expiry>.<mac>``, see ``download_token``) with the per-purpose key derived once per process:
  ``signing.dumps`` (zlib, key derivation per call) and ``reverse()`` were a tenth of a download's time.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core import signing
from django.core.files.storage import storages
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.crypto import constant_time_compare

from .siteurl import absolute_url, site_url

# What reading or writing a package can raise on either backend (local files, S3).
STORAGE_ERRORS = (OSError, BotoCoreError, ClientError)


class StorageUnavailable(Exception):
    """A package could not be read from storage; the task that met it retries with backoff."""


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
    return absolute_url(path)


@dataclass(frozen=True)
class UploadTarget:
    url: str
    method: str
    headers: dict


def presigned_upload(
    key: str, *, content_type: str, content_length: int | None, expires: int, single_use_id: str = ""
) -> UploadTarget:
    """A URL the client PUTs the package body to. The size and content type are bound into the signature.

    Locally the token also carries ``single_use_id`` (the upload view accepts one upload per id, checked
    against the owner's record under its row lock). S3 cannot make a presigned URL single-use: it may be PUT
    to again until it expires, which is why nothing reads an upload key after upload-complete.
    """
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
        {"k": key, "ct": content_type, "n": content_length, "u": single_use_id},
        salt=UPLOAD_SALT,
        compress=True,
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
    return _local_download_prefix() + download_token(key, filename=filename, expires=expires)


def _local_download_prefix() -> str:
    """The absolute URL of ``/v1/files/`` (reverse() once per site URL, script prefix and URLconf)."""
    memo_key = (site_url(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    prefix = _download_prefixes.get(memo_key)
    if prefix is None:
        placeholder = "T"
        url = _absolute(reverse("local-download", args=[placeholder]))
        prefix = _download_prefixes[memo_key] = url[: -len(placeholder)]
    return prefix


_download_prefixes: dict[tuple, str] = {}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=16)
def _token_mac_base(secret: str, salt: str):
    """An HMAC-SHA256 keyed with a key derived from ``secret`` for ``salt`` only, to ``copy()`` per token."""
    key = hashlib.sha256(f"mosis.token:{salt}:{secret}".encode()).digest()
    return hmac.new(key, digestmod=hashlib.sha256)


def _token_mac(secret: str, salt: str, body: str) -> str:
    mac = _token_mac_base(secret, salt).copy()
    mac.update(body.encode())
    return _b64(mac.digest())


def download_token(key: str, *, filename: str, expires: int, now: float | None = None) -> str:
    """``<payload>.<expiry>.<mac>``: base64url JSON ``[key, filename]``, the expiry as hex Unix seconds and
    an HMAC-SHA256 of both under a key derived from ``SECRET_KEY`` for downloads only. URL-safe, no ``/``."""
    payload = _b64(json.dumps([key, filename], separators=(",", ":")).encode())
    body = f"{payload}.{int(now if now is not None else time.time()) + expires:x}"
    return f"{body}.{_token_mac(settings.SECRET_KEY, DOWNLOAD_SALT, body)}"


def read_download_token(token: str) -> dict:
    """``{"k": key, "f": filename}`` of a token ``download_token`` made; raises ``signing.BadSignature``
    (forged, altered or malformed) or ``signing.SignatureExpired`` (a subclass: past its expiry). Tokens
    signed with a key of ``SECRET_KEY_FALLBACKS`` still verify, so rotating the secret breaks no live link."""
    body, _, mac = token.rpartition(".")
    payload, _, expiry = body.partition(".")
    if not (payload and expiry and mac) or len(token) > 2048:
        raise signing.BadSignature("Malformed download token.")
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    if not any(constant_time_compare(mac, _token_mac(secret, DOWNLOAD_SALT, body)) for secret in secrets):
        raise signing.BadSignature("Download token signature does not match.")
    try:
        expires_at = int(expiry, 16)
        key, filename = json.loads(_unb64(payload))
    except (ValueError, TypeError) as error:  # signed by us, so only a bug gets here
        raise signing.BadSignature("Malformed download token.") from error
    if expires_at < time.time():
        raise signing.SignatureExpired("Download link expired.")
    return {"k": key, "f": filename}


@dataclass
class StagedUpload:
    """A local upload streamed to a temporary file beside its key, not yet visible under the key.

    ``commit()`` moves it into place (an atomic rename); ``discard()`` removes it. The caller decides under
    its own lock which one happens, so an upload held open while its version moved on never lands.
    """

    key: str
    temp_path: str
    size: int

    def commit(self) -> None:
        os.replace(self.temp_path, local_path(self.key))

    def discard(self) -> None:
        if os.path.exists(self.temp_path):
            os.unlink(self.temp_path)


def stage_stream(key: str, stream, *, max_size: int) -> StagedUpload:
    """Stream a local upload chunk by chunk to a temporary file beside ``key``; raises ``TooLarge`` past
    ``max_size``. Never holds the body in memory; a partial file is removed on failure."""
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
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return StagedUpload(key=key, temp_path=tmp, size=written)


def save_stream(key: str, stream, *, max_size: int) -> int:
    """``stage_stream`` and commit at once (for writers that own the key outright)."""
    staged = stage_stream(key, stream, max_size=max_size)
    staged.commit()
    return staged.size


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


def object_exists(key: str) -> bool:
    return object_size(key) is not None


def copy_object(source: str, target: str) -> None:
    """Server-side copy of ``source`` to ``target`` (a snapshot: later writes to ``source`` do not reach it).

    S3: a managed ``CopyObject`` inside the bucket, the bytes never pass through this process. Local: a hard
    link (the same file under a second name, atomic and free), a plain copy across file systems.
    """
    if is_s3():
        client, bucket, _ = _s3_client()
        client.copy({"Bucket": bucket, "Key": _s3_key(source)}, bucket, _s3_key(target))
        return
    source_path, target_path = local_path(source), local_path(target)
    os.makedirs(os.path.dirname(target_path), exist_ok=True)
    try:
        os.link(source_path, target_path)
    except FileExistsError:
        raise
    except OSError:  # another file system: copy to a temporary name, then rename into place
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target_path), prefix=".copy-")
        os.close(fd)
        try:
            shutil.copyfile(source_path, tmp)
            os.replace(tmp, target_path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise


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


def store_file(key: str, path: str, *, content_type: str, content_encoding: str | None = None) -> str | None:
    """Move the finished local file ``path`` to ``key`` (a generated document; ``path`` is gone afterwards).

    S3: a managed (multipart for large files) upload read from disk in chunks, with the object's
    ``Content-Type``/``Content-Encoding`` set so a presigned GET answers them; returns S3's ETag of the object
    (what a client that followed a redirect to it sees). Local: a rename into place (a copy across file
    systems); returns None.
    """
    if is_s3():
        client, bucket, _ = _s3_client()
        extra = {"ContentType": content_type}
        if content_encoding:
            extra["ContentEncoding"] = content_encoding
        try:
            client.upload_file(path, bucket, _s3_key(key), ExtraArgs=extra)
            return client.head_object(Bucket=bucket, Key=_s3_key(key))["ETag"]
        finally:
            os.unlink(path)
    target = local_path(key)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.move(path, target)
    return None


def presigned_read(key: str, *, expires: int) -> str:
    """S3 only: a presigned GET URL of ``key`` answering the object's own content type and encoding."""
    client, bucket, _ = _s3_client()
    return client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": _s3_key(key)}, ExpiresIn=expires
    )


def iter_object(key: str, chunk_size: int = CHUNK):
    """The object's bytes in chunks of ``chunk_size`` (S3: the GET's body read as it arrives; local: the
    file); never the whole object in memory. Raises ``FileNotFoundError`` locally when it is gone."""
    if is_s3():
        client, bucket, _ = _s3_client()
        body = client.get_object(Bucket=bucket, Key=_s3_key(key))["Body"]
        try:
            yield from body.iter_chunks(chunk_size)
        finally:
            body.close()
        return
    with open(local_path(key), "rb") as fh:
        while chunk := fh.read(chunk_size):
            yield chunk


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
