"""Public catalog endpoints: browse/search, categories, listing, versions, a version's icon, the catalog
document and cache statistics. Thin: validate, call one selector/service, render.

Cacheable reads answer from ``store.catalog.services.cache`` with a strong ETag, ``Cache-Control`` and gzip
when the client accepts it; ``If-None-Match`` answers 304.
"""

from __future__ import annotations

import gzip
import hashlib

from django.conf import settings
from django.http import HttpResponse
from django.utils.crypto import constant_time_compare
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import authentication, permissions
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import JWTAuthentication
from mosis.core import redis as redis_adapter
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.pagination import PaginatedListMixin, StandardPagination
from store.http import (
    CATALOG_MAX_AGE,
    GZIP_MIN_BYTES,
    NOT_MODIFIED,
    PAGING_PARAMS,
    READ_MAX_AGE,
    CachedDocument,
    PublicView,
    cached_json_response,
    etag_matches,
    raw_query,
    validated_query,
)
from store.models import AppListing

from . import selectors
from .filters import BrowseFilter
from .links import ICON_MAX_AGE
from .serializers import (
    CacheStatsSerializer,
    CatalogSerializer,
    CategorySerializer,
    ListingSerializer,
    MosisVersionQuerySerializer,
    PublicAppSerializer,
    PublicVersionDetailSerializer,
    PublicVersionSerializer,
)
from .services.cache import (
    store_cache_fetch,
    store_cache_lookup,
    store_cache_stats,
)
from .services.document import (
    catalog_etags,
    catalog_fetch,
    catalog_for_this_host,
    catalog_meta,
    catalog_names_another_host,
    catalog_without_cache,
)
from .services.icons import read_icon, store_icon_version
from .services.listing import listing_changelog, listing_document_for, listing_for_app, listing_refresh
from .services.requirements import version_requirements

BROWSE_PARAMS = PAGING_PARAMS | frozenset(BrowseFilter.base_filters)


class StoreAppListView(PaginatedListMixin, PublicView, GenericAPIView):
    items_key = "apps"
    max_depth = selectors.BROWSE_MAX_DEPTH  # the schema's offset bound (BrowseResults enforces it)
    queryset = AppListing.objects.none()  # the filterset's model, for the schema; BrowseFilter reads the rows
    filter_backends = [DjangoFilterBackend]
    filterset_class = BrowseFilter

    @extend_schema(
        operation_id="store_apps_list",
        responses={200: PublicAppSerializer(many=True), 304: NOT_MODIFIED},
        summary="Browse and search listed apps",
    )
    def get(self, request):
        # Validated before the cache is asked, so only a valid query is ever built and stored.
        queryset = self.filter_queryset(self.get_queryset())

        def build():
            results = selectors.store_browse_results(queryset=queryset)
            paginator = StandardPagination()
            page = selectors.attach_shown_versions(paginator.paginate_queryset(results, request, view=self))
            return paginator.envelope(PublicAppSerializer(page, many=True).data)

        document = store_cache_fetch(
            kind="list", parts=("browse", raw_query(request, BROWSE_PARAMS)), build=build
        )
        return cached_json_response(request, document, max_age=READ_MAX_AGE)


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
        params = validated_query(MosisVersionQuerySerializer, request)
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
            listing = listing_for_app(app=app)
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
        response = Response(CacheStatsSerializer(store_cache_stats()).data)
        response["Cache-Control"] = "no-store"
        return response
