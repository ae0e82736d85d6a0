"""What the store's public views share: the base class of anonymous read endpoints, the cached-document
answer (ETag, 304, gzip, ``Cache-Control``), query validation and the query-string key of list documents."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

READ_MAX_AGE = 60  # browse, listing, versions: short, since ratings and downloads move
# ... and a shared cache may serve them this much longer while it fetches a fresh copy in the background
# (RFC 5861), as the store's own cache does with its pages (store.catalog.services.cache).
READ_STALE_WHILE_REVALIDATE = 30
CATALOG_MAX_AGE = 300  # the catalog document: clients poll it (seed 001: daily)
GZIP_MIN_BYTES = 512  # below this gzip does not pay for itself


@dataclass(frozen=True)
class CachedDocument:
    """A rendered JSON document: identity bytes, gzip bytes (None when too small) and its strong ETag."""

    body: bytes
    gzipped: bytes | None
    etag: str  # quoted strong ETag of the identity body

    @property
    def gzip_etag(self) -> str:
        return f'{self.etag[:-1]}-gzip"'

    def matches(self, if_none_match: str | None) -> bool:
        """``If-None-Match`` names this document (either encoding, or ``*``)."""
        return etag_matches(if_none_match, self.etag, self.gzip_etag)


def etag_matches(if_none_match: str | None, *etags: str) -> bool:
    """``If-None-Match`` (weak comparison, as RFC 9110 asks of it) names one of ``etags``, or is ``*``."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or any(etag in tags for etag in etags)


def render_document(data) -> CachedDocument:
    body = JSONRenderer().render(data)
    gzipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
    return CachedDocument(body=body, gzipped=gzipped, etag=f'"{hashlib.sha256(body).hexdigest()[:40]}"')


def cached_json_response(
    request, document: CachedDocument, *, max_age: int, stale_while_revalidate: int = 0
) -> HttpResponse:
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
    response["Cache-Control"] = f"public, max-age={max_age}" + (
        f", stale-while-revalidate={stale_while_revalidate}" if stale_while_revalidate else ""
    )
    response["Vary"] = "Accept-Encoding"
    return response


def validated_query(serializer_class, request) -> dict:
    """The query parameters validated by ``serializer_class`` (400 in the error format otherwise)."""
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    ratelimit_category = "read"
    schema_public = True


NOT_MODIFIED = OpenApiResponse(description="Not modified (If-None-Match matched the ETag)")


PAGING_PARAMS = frozenset({"page", "limit", "offset"})


def raw_query(request, names: frozenset = PAGING_PARAMS) -> tuple:
    """The query string as the cache keys a list document: the parameters the view reads (``names``; any
    other is ignored by the view, so it must not make a new entry), sorted, each with its values in order.

    Keyed by the raw parameters rather than the validated ones, so the DRF view (validate, build, store) and
    its fast answer (look up only) share entries; a value's order is kept because the last one wins.
    """
    return tuple((name, tuple(values)) for name, values in sorted(request.GET.lists()) if name in names)
