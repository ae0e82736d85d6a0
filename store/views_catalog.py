"""Public catalog endpoints: browse/search, categories, listing, versions, downloads, catalog document,
cache statistics and the local file download. Thin: validate, call one selector/service, render.

Cacheable reads answer from ``store.services.cache`` with a strong ETag, ``Cache-Control`` and gzip when
the client accepts it; ``If-None-Match`` answers 304.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils.crypto import constant_time_compare
from django.utils.http import content_disposition_header
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import authentication, permissions, serializers
from rest_framework.exceptions import APIException, NotAuthenticated, PermissionDenied
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from accounts.authentication import JWTAuthentication
from mosis.core import redis as redis_adapter
from mosis.core import storage
from mosis.core.errors import ApplicationError, ErrorCode, error_json_response
from mosis.core.pagination import PaginatedListMixin, StandardPagination
from versions.constants import mosis_version_number

from . import selectors
from .serializers_catalog import (
    BrowseQuerySerializer,
    CacheStatsSerializer,
    CatalogSerializer,
    CategorySerializer,
    DownloadQuerySerializer,
    ListingSerializer,
    MosisVersionQuerySerializer,
    PublicAppSerializer,
    PublicVersionDetailSerializer,
    PublicVersionSerializer,
    StoreDownloadSerializer,
)
from .services.cache import (
    GZIP_MIN_BYTES,
    CachedDocument,
    etag_matches,
    store_cache_fetch,
    store_cache_lookup,
    store_cache_stats,
)
from .services.catalog import (
    catalog_etags,
    catalog_fetch,
    catalog_for_this_host,
    catalog_meta,
    catalog_names_another_host,
    catalog_without_cache,
)
from .services.downloads import (
    anonymous_client_hash,
    download_client_hash,
    download_info_for,
    download_resolve,
    download_target_lookup,
)
from .services.icons import ICON_MAX_AGE, read_icon, store_icon_version
from .services.listing import listing_changelog, listing_document_for, listing_refresh
from .services.requirements import version_requirements

READ_MAX_AGE = 60  # browse, listing, versions: short, since ratings and downloads move
CATALOG_MAX_AGE = 300  # the catalog document: clients poll it (seed 001: daily)


def cached_json_response(request, document: CachedDocument, *, max_age: int) -> HttpResponse:
    """200 with the cached bytes (gzip when accepted), or 304 when ``If-None-Match`` names them."""
    wants_gzip = document.gzipped is not None and "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "")
    etag = document.gzip_etag if wants_gzip else document.etag
    if request.method in ("GET", "HEAD") and document.matches(request.META.get("HTTP_IF_NONE_MATCH")):
        response = HttpResponse(status=304)
    elif wants_gzip:
        response = HttpResponse(document.gzipped, content_type="application/json")
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(document.body, content_type="application/json")
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={max_age}"
    response["Vary"] = "Accept-Encoding"
    return response


def _query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    ratelimit_category = "read"
    schema_public = True


NOT_MODIFIED = OpenApiResponse(description="Not modified (If-None-Match matched the ETag)")


class StoreAppListView(PaginatedListMixin, PublicView):
    items_key = "apps"

    @extend_schema(
        operation_id="store_apps_list",
        parameters=[BrowseQuerySerializer],
        responses={200: PublicAppSerializer(many=True), 304: NOT_MODIFIED},
        summary="Browse and search listed apps",
    )
    def get(self, request):
        params = _query(BrowseQuerySerializer, request)  # only a valid query is ever built and stored

        def build():
            queryset = selectors.store_browse(
                q=params.get("q", ""),
                category=params.get("category", ""),
                type=params.get("type", ""),
                source=params.get("source", ""),
                sort=params.get("sort", ""),
                mosis_num=params.get("mosis_version") or None,
            )
            results = selectors.store_browse_results(queryset=queryset)
            paginator = StandardPagination()
            page = selectors.attach_shown_versions(paginator.paginate_queryset(results, request, view=self))
            return paginator.envelope(PublicAppSerializer(page, many=True).data)

        document = store_cache_fetch(
            kind="list", parts=("browse", raw_query(request, BROWSE_PARAMS)), build=build
        )
        return cached_json_response(request, document, max_age=READ_MAX_AGE)


PAGING_PARAMS = frozenset({"page", "limit", "offset"})
BROWSE_PARAMS = PAGING_PARAMS | frozenset(BrowseQuerySerializer().fields)


def raw_query(request, names: frozenset = PAGING_PARAMS) -> tuple:
    """The query string as the cache keys a list document: the parameters the view reads (``names``; any
    other is ignored by the view, so it must not make a new entry), sorted, each with its values in order.

    Keyed by the raw parameters rather than the validated ones, so the DRF view (validate, build, store) and
    its fast answer (look up only) share entries; a value's order is kept because the last one wins.
    """
    return tuple((name, tuple(values)) for name, values in sorted(request.GET.lists()) if name in names)


def _stored_answer(request, *, kind: str, parts: tuple, package_id: str | None = None) -> HttpResponse | None:
    """The stored document as the DRF view would send it, or None on a miss (DRF validates and builds)."""
    document = store_cache_lookup(kind=kind, parts=parts, package_id=package_id)
    return None if document is None else cached_json_response(request, document, max_age=READ_MAX_AGE)


def store_apps_answer(request) -> HttpResponse | None:
    """Fast answer for ``GET /v1/store/apps`` (browse and search): a stored page for this exact query."""
    return _stored_answer(request, kind="list", parts=("browse", raw_query(request, BROWSE_PARAMS)))


def store_categories_answer(request) -> HttpResponse | None:
    """Fast answer for ``GET /v1/store/categories``: a stored page for this exact query."""
    return _stored_answer(request, kind="list", parts=("categories", raw_query(request)))


class StoreCategoryListView(PaginatedListMixin, PublicView):
    items_key = "categories"

    @extend_schema(
        operation_id="store_categories_list",
        responses={200: CategorySerializer(many=True), 304: NOT_MODIFIED},
        summary="Categories with their number of listed apps",
    )
    def get(self, request):
        def build():
            paginator = StandardPagination()
            page = paginator.paginate_queryset(selectors.store_categories(), request, view=self)
            return paginator.envelope(CategorySerializer(page, many=True).data)

        document = store_cache_fetch(kind="list", parts=("categories", raw_query(request)), build=build)
        return cached_json_response(request, document, max_age=READ_MAX_AGE)


class StoreAppDetailView(PublicView):
    @extend_schema(
        operation_id="store_app_retrieve",
        parameters=[MosisVersionQuerySerializer],
        responses={200: ListingSerializer, 304: NOT_MODIFIED},
        summary="An app's public listing (published or unlisted)",
    )
    def get(self, request, package_id: str):
        params = _query(MosisVersionQuerySerializer, request)
        mosis_num = params.get("mosis_version") or None
        if mosis_num is None:  # the stored default listing, the same bytes as the fast answer
            response = listing_response(request, package_id)
            if response is None:
                app = selectors.listed_app_for_package(package_id)  # 404 for unknown or hidden apps
                listing_refresh(app_id=app.pk)  # no row or no document yet: render and store it now
                response = listing_response(request, package_id)
            if response is None:
                raise ApplicationError(ErrorCode.NOT_FOUND, "App not found.")
            return response

        def build():
            app = selectors.listed_app_for_package(package_id)
            listing = selectors.listing_for_app(app=app)
            listing.shown_version = selectors.latest_compatible_version(app=app, mosis_version=mosis_num)
            return ListingSerializer(listing, context={"changelog": listing_changelog(app.pk)}).data

        document = store_cache_fetch(
            kind="metadata", parts=("listing", package_id, mosis_num), build=build, package_id=package_id
        )
        return cached_json_response(request, document, max_age=READ_MAX_AGE)


def listing_response(request, package_id: str) -> HttpResponse | None:
    """The default listing (no ``mosis_version``) for DRF and for the fast path alike: one SELECT, the
    stored document with the row's live figures (``listing_document_for``); None when there is none."""
    body = listing_document_for(package_id)
    if body is None:
        return None
    etag = f'"{hashlib.sha256(body).hexdigest()[:40]}"'  # render_document's rule
    gzipped = None
    if len(body) >= GZIP_MIN_BYTES and "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", ""):
        if CachedDocument(body, None, etag).matches(request.META.get("HTTP_IF_NONE_MATCH")):
            gzipped = b""  # a 304: no body is sent, only the gzip ETag
        else:
            gzipped = gzip.compress(body, compresslevel=6, mtime=0)
    return cached_json_response(request, CachedDocument(body, gzipped, etag), max_age=READ_MAX_AGE)


def listing_answer(request, package_id: str) -> HttpResponse | None:
    """Fast answer for ``GET /v1/store/apps/{package_id}`` without query parameters (else DRF)."""
    if request.GET:
        return None
    return listing_response(request, package_id)


class StoreAppVersionsView(PaginatedListMixin, PublicView):
    items_key = "versions"

    @extend_schema(
        operation_id="store_app_versions_list",
        responses={200: PublicVersionSerializer(many=True), 304: NOT_MODIFIED},
        summary="Published versions of an app (yanked ones flagged), newest first",
    )
    def get(self, request, package_id: str):
        def build():
            app = selectors.listed_app_for_package(package_id)
            paginator = StandardPagination()
            page = paginator.paginate_queryset(selectors.published_versions(app=app), request, view=self)
            for version in page:
                version.app = app
            return paginator.envelope(PublicVersionSerializer(page, many=True).data)

        document = store_cache_fetch(
            kind="version",
            parts=("versions", package_id, raw_query(request)),
            build=build,
            package_id=package_id,
        )
        return cached_json_response(request, document, max_age=READ_MAX_AGE)


class StoreAppVersionDetailView(PublicView):
    @extend_schema(
        operation_id="store_app_version_retrieve",
        responses={200: PublicVersionDetailSerializer, 304: NOT_MODIFIED},
        summary="One published version: release notes, requirements, Mosis range, size and sha256",
    )
    def get(self, request, package_id: str, version_code: int):
        def build():
            app = selectors.listed_app_for_package(package_id)  # 404 "App not found."
            version = selectors.version_for_download(app=app, version_code=version_code)  # 404 otherwise
            version.requirements = version_requirements(version)
            return PublicVersionDetailSerializer(version).data

        document = store_cache_fetch(
            kind="version", parts=("version", package_id, version_code), build=build, package_id=package_id
        )
        return cached_json_response(request, document, max_age=READ_MAX_AGE)


def store_versions_answer(request, package_id: str) -> HttpResponse | None:
    """Fast answer for ``GET /v1/store/apps/{package_id}/versions``: a stored page for this exact query."""
    return _stored_answer(
        request, kind="version", parts=("versions", package_id, raw_query(request)), package_id=package_id
    )


class _DownloadView(PublicView):
    """Answers download info (or a 302 with ``?redirect=1``) and counts the download once per client/day.

    Device tokens are optional: when present the device is the counted client.
    """

    authentication_classes = APIView.authentication_classes

    def respond(self, request, *, package_id: str, selector: tuple, build):
        params = _query(DownloadQuerySerializer, request)
        target = download_resolve(
            package_id=package_id, selector=selector, build=build, client_hash=download_client_hash(request)
        )
        return _download_answer(download_info_for(version=target), redirect=params.get("redirect"))


def _download_answer(info: dict, *, redirect: bool) -> HttpResponse:
    if redirect:
        response = HttpResponseRedirect(info["download_url"])
        response["Cache-Control"] = "no-store"
        return response
    return _json(StoreDownloadSerializer(info).data)


def _json(data) -> HttpResponse:
    from rest_framework.response import Response

    response = Response(data)
    response["Cache-Control"] = "no-store"  # the URL is signed and expires
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
        mosis_version = _query(DownloadQuerySerializer, request).get("mosis_version") or None
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


class StoreVersionIconView(PublicView):
    @extend_schema(
        operation_id="store_app_version_icon",
        responses={
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description="The packaged icon (PNG)"),
            304: NOT_MODIFIED,
        },
        summary="The icon packaged in one published version (what icon_url points at without a developer URL)",
    )
    def get(self, request, package_id: str, version_code: int):
        version = store_icon_version(package_id=package_id, version_code=version_code)
        etag = f'"icon-{version.pk.hex}"'
        if etag_matches(request.META.get("HTTP_IF_NONE_MATCH"), etag):
            response = HttpResponse(status=304)
        else:
            data = read_icon(version)
            response = HttpResponse(data, content_type="image/png")
            response["Content-Length"] = str(len(data))
        response["ETag"] = etag
        response["Cache-Control"] = f"public, max-age={ICON_MAX_AGE}, immutable"
        return response


_BOOL_TRUE = frozenset(v for v in serializers.BooleanField.TRUE_VALUES if isinstance(v, str))
_BOOL_FALSE = frozenset(v for v in serializers.BooleanField.FALSE_VALUES if isinstance(v, str))
_PLAIN_MOSIS_VERSION = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){0,2}")
_DOWNLOAD_PARAM_NAMES = frozenset({"redirect", "mosis_version"})
# Query strings a client sends most, read as the general parse below reads them.
_PLAIN_DOWNLOAD_QUERIES = {
    "": (False, None),
    **{f"redirect={value}": (True, None) for value in _BOOL_TRUE},
    **{f"redirect={value}": (False, None) for value in _BOOL_FALSE},
}


def _download_query(request) -> tuple[bool, int | None] | None:
    """(redirect, mosis_version number) exactly as ``DownloadQuerySerializer`` validates them, or None for
    anything it would read differently or reject (unknown or repeated names, blanks, spaces, bad values)."""
    known = _PLAIN_DOWNLOAD_QUERIES.get(request.META.get("QUERY_STRING", ""))
    if known is not None:
        return known  # the usual ``?redirect=1`` without building a QueryDict
    query = request.GET
    if not query:
        return False, None
    if not _DOWNLOAD_PARAM_NAMES.issuperset(query) or any(len(query.getlist(name)) != 1 for name in query):
        return None
    redirect, mosis_version = False, None
    if "redirect" in query:
        value = query["redirect"]
        if value in _BOOL_TRUE:
            redirect = True
        elif value not in _BOOL_FALSE:
            return None
    if "mosis_version" in query:
        value = query["mosis_version"]
        if not _PLAIN_MOSIS_VERSION.fullmatch(value):
            return None
        mosis_version = mosis_version_number(value)
    return redirect, mosis_version


def download_response(request, package_id: str, version_code: int | None = None) -> HttpResponse | None:
    """The fast answer (``fast_view``) for both download URLs, anonymous GETs only: the same bytes and
    headers as the DRF views. None (DRF answers) for query strings it does not parse exactly like
    ``DownloadQuerySerializer`` and for anything that is not a found, listed download (404 and friends)."""
    params = _download_query(request)
    if params is None:
        return None
    redirect, mosis_version = params
    if version_code is None:
        selector, build = ("latest", mosis_version), _latest_build(package_id, mosis_version)
    else:
        selector, build = ("code", version_code), _version_build(package_id, version_code)
    try:
        target = download_resolve(
            package_id=package_id, selector=selector, build=build, client_hash=anonymous_client_hash(request)
        )
    except (ApplicationError, Http404, APIException):
        return None  # nothing was counted: DRF answers the error with its SPEC §3 body
    info = download_info_for(version=target)
    if redirect:
        response = HttpResponseRedirect(info["download_url"])
    else:
        response = HttpResponse(JSONRenderer().render(info), content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response  # fast_view adds DRF's Allow header


class CatalogView(PublicView):
    @extend_schema(
        operation_id="store_catalog",
        responses={200: CatalogSerializer, 304: NOT_MODIFIED},
        summary="The catalog document: every listed app (and disabled ones, flagged) for extension managers",
    )
    def get(self, request):
        return catalog_response(request)


def catalog_response(request) -> HttpResponse:
    """The catalog answer for DRF and for the fast path alike (it takes no parameters).

    A 304 reads only the small meta key (memoised per process); the body is fetched for a 200 alone.
    """
    try:
        meta = catalog_meta()
        if catalog_names_another_host(meta):  # no SITE_URL and another address: this host's URLs, uncached
            return cached_json_response(request, catalog_for_this_host(), max_age=CATALOG_MAX_AGE)
        etags = catalog_etags(meta)
        if etags.matches(request.META.get("HTTP_IF_NONE_MATCH")):
            return cached_json_response(request, etags, max_age=CATALOG_MAX_AGE)
        document = catalog_fetch(meta)
    except redis_adapter.UNAVAILABLE:
        document = catalog_without_cache()
    return cached_json_response(request, document, max_age=CATALOG_MAX_AGE)


class MetricsTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <METRICS_TOKEN>`` for operators' scrapers (only when the setting is set)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        token = settings.METRICS_TOKEN
        if token and header.startswith("Bearer ") and constant_time_compare(header[7:].strip(), token):
            return None, "metrics-token"
        return None

    def authenticate_header(self, request):
        return "Bearer"


class MetricsTokenScheme(OpenApiAuthenticationExtension):
    target_class = MetricsTokenAuthentication
    name = "metricsToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "The operator's METRICS_TOKEN"}


class IsStaffOrMetricsToken(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        if request.auth == "metrics-token":
            return True
        user = request.user
        if not (user and user.is_authenticated):
            raise NotAuthenticated()
        if not user.is_staff:
            raise PermissionDenied("Staff or the metrics token only.")
        return True


class CacheStatsView(APIView):
    authentication_classes = [MetricsTokenAuthentication, JWTAuthentication]
    permission_classes = [IsStaffOrMetricsToken]
    ratelimit_category = "read"

    @extend_schema(
        operation_id="cache_stats", responses={200: CacheStatsSerializer}, summary="Store cache statistics"
    )
    def get(self, request):
        return _json(CacheStatsSerializer(store_cache_stats()).data)


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
