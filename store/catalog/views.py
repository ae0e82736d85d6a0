"""Public catalog endpoints: browse/search, categories, listing, versions, a version's icon, the catalog
document and cache statistics. Thin: validate, call one selector/service, render.

Cacheable reads answer from ``store.catalog.services.cache`` with a strong ETag, ``Cache-Control`` and gzip
when the client accepts it; ``If-None-Match`` answers 304.
"""

from __future__ import annotations

import gzip
import hashlib

from django.conf import settings
from django.http import FileResponse, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import JWTAuthentication, MetricsTokenAuthentication
from accounts.permissions import IsStaffOrMetricsToken
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.filters import QueryFiltersMixin
from mosis.core.pagination import PaginatedListMixin, StandardPagination
from mosis.core.siteurl import serves_stored_base, site_url
from store.http import (
    CATALOG_MAX_AGE,
    GZIP_MIN_BYTES,
    NOT_MODIFIED,
    PAGING_PARAMS,
    READ_MAX_AGE,
    READ_STALE_WHILE_REVALIDATE,
    CachedDocument,
    PublicView,
    cached_json_response,
    etag_matches,
    raw_query,
    render_document,
    validated_query,
)

from . import selectors
from .filters import BrowseFilter
from .links import ICON_MAX_AGE
from .serializers import (
    CacheStatsSerializer,
    CatalogDeltaSerializer,
    CatalogQuerySerializer,
    CatalogSerializer,
    CategorySerializer,
    ListingSerializer,
    MosisVersionQuerySerializer,
    PublicAppSerializer,
    PublicVersionDetailSerializer,
    PublicVersionSerializer,
)
from .services.cache import (
    SCOPE_ALL,
    SCOPE_CATEGORIES,
    category_scope,
    search_scope,
    store_cache_fetch,
    store_cache_lookup,
    store_cache_stats,
)
from .services.document import (
    catalog_body,
    catalog_delta,
    catalog_etag,
    catalog_meta,
    catalog_not_modified,
    catalog_request_build,
)
from .services.icons import read_icon, store_icon_version
from .services.listing import listing_changelog, listing_document_for, listing_for_app, listing_refresh
from .services.requirements import version_requirements

BROWSE_PARAMS = PAGING_PARAMS | frozenset(BrowseFilter.base_filters)


class StoreAppListView(QueryFiltersMixin, PaginatedListMixin, PublicView):
    items_key = "apps"
    max_depth = selectors.BROWSE_MAX_DEPTH  # the schema's offset bound (BrowseResults enforces it)
    filterset_class = BrowseFilter

    @extend_schema(
        operation_id="store_apps_list",
        responses={200: PublicAppSerializer(many=True), 304: NOT_MODIFIED},
        summary="Browse and search listed apps",
    )
    def get(self, request):
        # Validated before the cache is asked, so only a valid query is ever built and stored.
        queryset = selectors.store_browse(**self.query_filters())

        def build():
            results = selectors.store_browse_results(queryset=queryset)
            paginator = StandardPagination()
            page = selectors.attach_shown_versions(paginator.paginate_queryset(results, request, view=self))
            return paginator.envelope(PublicAppSerializer(page, many=True).data)

        raw = raw_query(request, BROWSE_PARAMS)
        document = store_cache_fetch(
            kind="list",
            parts=("browse", raw),
            build=build,
            scope=browse_scope(raw),
            packages_of=lambda data: [item["package_id"] for item in data[self.items_key]],
        )
        return read_response(request, document)


def browse_scope(raw: tuple) -> str:
    """The cache scope of a browse page (``store.catalog.services.cache``), from its query as stored: a
    search (words) is its own scope, every page of it; else its category's browse, else the all-apps one.
    Read from the raw query (the fast answer has no validated one) the way the serializer reads it: the
    last value wins, surrounding blanks are trimmed."""
    last = {name: values[-1].strip() for name, values in raw if values}
    if last.get("q"):
        query = tuple((name, values) for name, values in raw if name not in PAGING_PARAMS)
        return search_scope(hashlib.sha256(repr(query).encode()).hexdigest()[:32])
    if last.get("category"):
        return category_scope(last["category"])
    return SCOPE_ALL


def read_response(request, document: CachedDocument) -> HttpResponse:
    """A public read's answer: ``READ_MAX_AGE``, then ``READ_STALE_WHILE_REVALIDATE`` more for shared caches."""
    return cached_json_response(
        request, document, max_age=READ_MAX_AGE, stale_while_revalidate=READ_STALE_WHILE_REVALIDATE
    )


def _stored_answer(
    request, *, kind: str, parts: tuple, package_id: str | None = None, scope: str | None = None
) -> HttpResponse | None:
    """The stored document as the DRF view would send it, or None on a miss (DRF validates and builds)."""
    document = store_cache_lookup(kind=kind, parts=parts, package_id=package_id, scope=scope)
    return None if document is None else read_response(request, document)


def store_apps_answer(request) -> HttpResponse | None:
    """Fast answer for ``GET /v1/store/apps`` (browse and search): a stored page for this exact query."""
    raw = raw_query(request, BROWSE_PARAMS)
    return _stored_answer(request, kind="list", parts=("browse", raw), scope=browse_scope(raw))


def store_categories_answer(request) -> HttpResponse | None:
    """Fast answer for ``GET /v1/store/categories``: a stored page for this exact query."""
    return _stored_answer(
        request, kind="list", parts=("categories", raw_query(request)), scope=SCOPE_CATEGORIES
    )


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

        document = store_cache_fetch(
            kind="list", parts=("categories", raw_query(request)), build=build, scope=SCOPE_CATEGORIES
        )
        return read_response(request, document)


class StoreAppDetailView(PublicView):
    @extend_schema(
        operation_id="store_app_retrieve",
        parameters=[MosisVersionQuerySerializer],
        responses={200: ListingSerializer, 304: NOT_MODIFIED},
        summary="An app's public listing (published or unlisted)",
    )
    def get(self, request, package_id: str):
        params = validated_query(MosisVersionQuerySerializer, request)
        mosis_num = params.get("mosis_version") or None
        if mosis_num is None and serves_stored_base():  # the stored default listing, as the fast answer
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
            listing = listing_for_app(app=app)
            listing.shown_version = selectors.latest_compatible_version(app=app, mosis_version=mosis_num)
            return ListingSerializer(listing, context={"changelog": listing_changelog(app.pk)}).data

        document = store_cache_fetch(
            kind="metadata", parts=("listing", package_id, mosis_num), build=build, package_id=package_id
        )
        return read_response(request, document)


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
    return read_response(request, CachedDocument(body, gzipped, etag))


def listing_answer(request, package_id: str) -> HttpResponse | None:
    """Fast answer for ``GET /v1/store/apps/{package_id}`` without query parameters (else DRF), from the stored
    document when this request's URLs are the ones it names (``serves_stored_base``)."""
    if request.GET or not serves_stored_base():
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
        return read_response(request, document)


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
        return read_response(request, document)


def store_versions_answer(request, package_id: str) -> HttpResponse | None:
    """Fast answer for ``GET /v1/store/apps/{package_id}/versions``: a stored page for this exact query."""
    return _stored_answer(
        request, kind="version", parts=("versions", package_id, raw_query(request)), package_id=package_id
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


CATALOG_RESPONSE = PolymorphicProxySerializer(
    component_name="CatalogOrDelta",
    serializers=[CatalogSerializer, CatalogDeltaSerializer],
    resource_type_field_name=None,
)


class CatalogView(PublicView):
    extra_error_statuses = (503,)  # the first document is being built (Retry-After)

    @extend_schema(
        operation_id="store_catalog",
        parameters=[CatalogQuerySerializer],
        responses={
            200: OpenApiResponse(
                CATALOG_RESPONSE,
                description="The whole document (`apps`), or with `since` the changes (`changed`, `removed`).",
            ),
            302: OpenApiResponse(
                description="S3 storage: redirect to the document's short-lived presigned URL"
            ),
            304: NOT_MODIFIED,
        },
        summary="The catalog document: every listed app (and disabled ones, flagged) for extension managers",
    )
    def get(self, request):
        since = validated_query(CatalogQuerySerializer, request).get("since")
        response = catalog_response(request, since=since)
        if response is None:
            raise ApplicationError(
                ErrorCode.SERVICE_UNAVAILABLE,
                "The catalog is being built; retry shortly.",
                headers={"Retry-After": str(settings.CATALOG_RETRY_AFTER)},
            )
        return response


def catalog_answer(request) -> HttpResponse | None:
    """Fast answer for ``GET /v1/store/catalog`` without parameters; DRF validates ``since`` and answers 503."""
    if request.GET:
        return None
    return catalog_response(request)


def catalog_response(request, since: tuple | None = None) -> HttpResponse | None:
    """The catalog answer, or None when there is no document yet (its build is enqueued).

    A 304 is decided from the document's row alone; a 200 redirects to or streams the stored file (gzip
    when accepted), or, with ``since``, renders the changes since then.
    """
    base = site_url()
    document = catalog_meta(base) or catalog_request_build(base)
    if document is None:
        return None
    accepts_gzip = "gzip" in request.META.get("HTTP_ACCEPT_ENCODING", "")
    if catalog_not_modified(document, request.META.get("HTTP_IF_NONE_MATCH")):
        response = HttpResponse(status=304)
        return _catalog_headers(
            response, catalog_etag(document, gzipped=accepts_gzip and bool(document.gzip_key))
        )
    if since is not None:
        kind, value = since
        delta = catalog_delta(
            document,
            since_etag=value if kind == "etag" else None,
            since_time=value if kind == "time" else None,
        )
        if delta is not None:
            rendered = render_document(CatalogDeltaSerializer(delta).data)
            return cached_json_response(request, rendered, max_age=CATALOG_MAX_AGE)
    body = catalog_body(document, accepts_gzip=accepts_gzip)
    if body is None:
        return None
    if body.redirect_url is not None:
        response = HttpResponseRedirect(body.redirect_url)
        _catalog_headers(response, catalog_etag(document, gzipped=body.gzipped))
        response["Cache-Control"] = "no-cache"  # the presigned URL expires; ask again, a 304 costs nothing
        return response
    if body.path is not None:
        response = FileResponse(open(body.path, "rb"), content_type="application/json")  # noqa: SIM115
        del response["Content-Disposition"]
    else:
        response = StreamingHttpResponse(body.chunks, content_type="application/json")
        response["Content-Length"] = str(body.size)
    if body.gzipped:
        response["Content-Encoding"] = "gzip"
    return _catalog_headers(response, catalog_etag(document, gzipped=body.gzipped))


def _catalog_headers(response: HttpResponse, etag: str) -> HttpResponse:
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={CATALOG_MAX_AGE}"
    response["Vary"] = "Accept-Encoding"
    return response


class CacheStatsView(APIView):
    authentication_classes = [MetricsTokenAuthentication, JWTAuthentication]
    permission_classes = [IsStaffOrMetricsToken]
    ratelimit_category = "read"

    @extend_schema(
        operation_id="cache_stats", responses={200: CacheStatsSerializer}, summary="Store cache statistics"
    )
    def get(self, request):
        response = Response(CacheStatsSerializer(store_cache_stats()).data)
        response["Cache-Control"] = "no-store"
        return response
