"""Download endpoints: the latest or one version's download answer (or a 302), counted once per client and
day, and the local file download of embedded mode (signed, expiring token; one Range)."""

from __future__ import annotations

import functools
import os
import re

from django.core import signing
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from accounts.models import Device
from mosis.core import storage
from mosis.core.clientip import client_ip
from mosis.core.errors import ApplicationError, ErrorCode, error_json_response
from store.catalog import selectors
from store.http import PublicView

from .serializers import DownloadQuerySerializer, StoreDownloadSerializer
from .services import (
    download_client_hash,
    download_info_for,
    download_resolve,
    download_target_lookup,
)


def _client_hash(request) -> str:
    """The counted client of an authenticated-or-not download: its device token's device, else its user."""
    device = request.auth if isinstance(request.auth, Device) else None
    user = request.user if request.user is not None and request.user.is_authenticated else None
    return download_client_hash(
        device_id=device.pk if device else None, user_id=user.pk if user else None, ip=client_ip(request)
    )


class _DownloadView(PublicView):
    """Answers download info (or a 302 with ``?redirect=1``) and counts the download once per client/day.

    Device tokens are optional: when present the device is the counted client.
    """

    authentication_classes = APIView.authentication_classes

    def respond(self, request, *, package_id: str, selector: tuple, build):
        redirect, _mosis_version = download_query(request)
        target = download_resolve(
            package_id=package_id, selector=selector, build=build, client_hash=_client_hash(request)
        )
        return download_answer(download_info_for(version=target), redirect=redirect)


def download_query(request) -> tuple[bool, int | None]:
    """(redirect, Mosis version number or None) of a download request, validated by
    ``DownloadQuerySerializer`` (a ``ValidationError``, the 400, otherwise). The one reading of the query,
    for the DRF views and the fast answer alike."""
    return _validated_download_query(request.META.get("QUERY_STRING", ""))


@functools.lru_cache(maxsize=256)
def _validated_download_query(query_string: str) -> tuple[bool, int | None]:
    # Memoised per query string: a client sends the same few (``""``, ``redirect=1``); only a valid query is
    # remembered (an exception is not cached), and QueryDict reads the string as ``request.GET`` does.
    serializer = DownloadQuerySerializer(data=QueryDict(query_string))
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return bool(data.get("redirect")), data.get("mosis_version") or None


# One instance, its fields bound once: a serializer built per answer costs ~10x its rendering (deep copies of
# the declared fields); ``to_representation`` only reads them, so threads may share it.
_DOWNLOAD_SERIALIZER = StoreDownloadSerializer()
_DOWNLOAD_SERIALIZER.fields  # noqa: B018 - bind the fields now, not on the first (concurrent) answers


def download_answer(info: dict, *, redirect: bool) -> HttpResponse:
    """The download answer (``StoreDownloadSerializer``'s JSON, or a 302 to ``download_url``), sent by the
    DRF views and the fast answer alike; never stored by a cache (the URL is signed and expires)."""
    if redirect:
        response = HttpResponseRedirect(info["download_url"])
    else:
        response = HttpResponse(
            JSONRenderer().render(_DOWNLOAD_SERIALIZER.to_representation(info)),
            content_type="application/json",
        )
    response["Cache-Control"] = "no-store"
    return response


DOWNLOAD_PARAMS = [DownloadQuerySerializer]
REDIRECT = OpenApiResponse(description="Redirect to download_url (with ?redirect=1)")


def _latest_build(package_id: str, mosis_version: int | None):
    def build():
        target = download_target_lookup(package_id=package_id, mosis_num=mosis_version)
        if target is not None:
            return target
        selectors.listed_app_for_package(package_id)  # 404 "App not found." for an unknown or hidden app
        raise ApplicationError(ErrorCode.NOT_FOUND, "No compatible published version.")

    return build


def _version_build(package_id: str, version_code: int):
    def build():
        target = download_target_lookup(package_id=package_id, version_code=version_code)
        if target is not None:
            return target
        app = selectors.listed_app_for_package(package_id)  # 404 "App not found."
        return selectors.version_for_download(app=app, version_code=version_code)  # 404 "Version not found."

    return build


class StoreLatestDownloadView(_DownloadView):
    @extend_schema(
        operation_id="store_app_download_latest",
        parameters=DOWNLOAD_PARAMS,
        responses={200: StoreDownloadSerializer, 302: REDIRECT},
        summary="Download the latest (or newest compatible) version",
    )
    def get(self, request, package_id: str):
        _redirect, mosis_version = download_query(request)
        return self.respond(
            request,
            package_id=package_id,
            selector=("latest", mosis_version),
            build=_latest_build(package_id, mosis_version),
        )


class StoreVersionDownloadView(_DownloadView):
    @extend_schema(
        operation_id="store_app_download_version",
        parameters=DOWNLOAD_PARAMS,
        responses={200: StoreDownloadSerializer, 302: REDIRECT},
        summary="Download one published version (yanked versions stay downloadable)",
    )
    def get(self, request, package_id: str, version_code: int):
        return self.respond(
            request,
            package_id=package_id,
            selector=("code", version_code),
            build=_version_build(package_id, version_code),
        )


def download_response(request, package_id: str, version_code: int | None = None) -> HttpResponse | None:
    """The fast answer (``fast_view``) for both download URLs, anonymous GETs only: the DRF views' answer
    (``download_query``, ``download_resolve``, ``download_answer``) without DRF's dispatch. None (DRF
    answers, with its error body) for a query ``download_query`` refuses and for anything that is not a
    found, listed download (404 and friends)."""
    try:
        redirect, mosis_version = download_query(request)
    except ValidationError:
        return None
    if version_code is None:
        selector, build = ("latest", mosis_version), _latest_build(package_id, mosis_version)
    else:
        selector, build = ("code", version_code), _version_build(package_id, version_code)
    try:
        target = download_resolve(
            package_id=package_id,
            selector=selector,
            build=build,
            client_hash=download_client_hash(ip=client_ip(request)),
        )
    except (ApplicationError, Http404, APIException):
        return None  # nothing was counted: DRF answers the error with its SPEC §3 body
    return download_answer(download_info_for(version=target), redirect=redirect)  # fast_view adds Allow


# --- local file download (embedded mode) ---------------------------------------------------------------
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _parse_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(start, end) inclusive for a single satisfiable range; None to send everything; False if unsatisfiable."""
    match = _RANGE.match(header.strip())
    if not match:
        return None  # multiple or malformed ranges: the whole file (RFC 9110 allows ignoring Range)
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            return False
        return max(size - length, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        return False
    return start, end


def _slice(handle, start: int, length: int, chunk: int = storage.CHUNK):
    try:
        handle.seek(start)
        remaining = length
        while remaining > 0:
            data = handle.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        handle.close()


def local_download(request, token: str):
    """``GET /v1/files/<token>``: stream a package named by a signed, expiring token; supports one Range."""
    if request.method not in ("GET", "HEAD"):
        return error_json_response(ErrorCode.METHOD_NOT_ALLOWED)
    try:
        claims = storage.read_download_token(token)
    except signing.BadSignature:  # includes SignatureExpired
        return error_json_response(ErrorCode.NOT_FOUND, "Download link is invalid or expired.")
    key = claims.get("k", "")
    size = storage.object_size(key)
    if size is None:
        return error_json_response(ErrorCode.NOT_FOUND, "File not found.")
    filename = os.path.basename(claims.get("f") or key)
    handle = storage.open_stream(key)
    wanted = (
        _parse_range(request.META.get("HTTP_RANGE", ""), size) if request.META.get("HTTP_RANGE") else None
    )
    if wanted is False:
        handle.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        response["Accept-Ranges"] = "bytes"
        return response
    if wanted is None:
        response = FileResponse(
            handle, as_attachment=True, filename=filename, content_type="application/octet-stream"
        )
        response["Content-Length"] = str(size)
    else:
        start, end = wanted
        response = StreamingHttpResponse(
            _slice(handle, start, end - start + 1), status=206, content_type="application/octet-stream"
        )
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
        response["Content-Length"] = str(end - start + 1)
        response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=0"
    return response
