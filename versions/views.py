"""Versions API (SPEC §5): thin views over ``versions.services``; owner-only via ``apps.policies``.

Also the local upload endpoint ``PUT /v1/uploads/<token>`` that stands in for S3's presigned PUT in
embedded mode: a plain Django view that streams the body to storage (never whole in memory).
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.constants import Scope
from accounts.permissions import HasScope, IsDeveloper
from apps.policies import app_for_owner
from mosis.core import storage
from mosis.core.errors import ApplicationError, ErrorCode, error_json_response
from mosis.core.idempotency import idempotent
from mosis.core.pagination import StandardPagination
from mosis.core.schema import ERROR_DESCRIPTIONS, ERROR_REF

from . import selectors, services
from .models import AppVersion
from .serializers import (
    AppVersionSerializer,
    SuccessSerializer,
    UploadCompleteSerializer,
    VersionCreatedSerializer,
    VersionCreateSerializer,
    VersionListQuerySerializer,
)

TAG = ["versions"]


class VersionsPagination(StandardPagination):
    items_key = "versions"


class _VersionView(APIView):
    permission_classes = [IsDeveloper, HasScope]

    def app(self, request, app_id):
        return app_for_owner(user=request.user, app_id=app_id)

    def version(self, request, app_id, version_id) -> AppVersion:
        version = selectors.version_get(app=self.app(request, app_id), version_id=version_id)
        if version is None:
            raise ApplicationError(ErrorCode.NOT_FOUND, "Version not found.")
        return version


def _created_body(version: AppVersion, target: storage.UploadTarget) -> dict:
    return {
        "version": AppVersionSerializer(version).data,
        "upload_url": target.url,
        "upload_expires": serializers.DateTimeField().to_representation(version.upload_expires_at),
        "upload_method": target.method,
        "upload_headers": target.headers,
    }


class VersionListCreateView(_VersionView):
    required_scopes = {"GET": Scope.APPS_READ, "POST": Scope.VERSIONS_UPLOAD}
    ratelimit_category = {"POST": "upload"}
    pagination_class = VersionsPagination
    items_key = "versions"
    serializer_class = AppVersionSerializer

    @extend_schema(
        tags=TAG,
        operation_id="versions_list",
        parameters=[VersionListQuerySerializer],
        responses={200: AppVersionSerializer(many=True)},
        summary="List an app's versions, newest version_code first",
    )
    def get(self, request, app_id):
        query = VersionListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        versions = selectors.version_list(
            app=self.app(request, app_id), status=query.validated_data.get("status")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(versions, request, view=self)
        return paginator.get_paginated_response(AppVersionSerializer(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="versions_create",
        request=VersionCreateSerializer,
        responses={201: VersionCreatedSerializer},
        summary="Create a version and get the URL to PUT its package to",
    )
    @idempotent
    def post(self, request, app_id):
        data = VersionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version, target = services.version_create(
            app=self.app(request, app_id), actor=request.user, **data.validated_data
        )
        return Response(_created_body(version, target), status=http.HTTP_201_CREATED)


class VersionDetailView(_VersionView):
    required_scopes = {"GET": Scope.APPS_READ, "DELETE": Scope.VERSIONS_UPLOAD}

    @extend_schema(
        tags=TAG, operation_id="versions_retrieve", responses={200: AppVersionSerializer}, summary="A version"
    )
    def get(self, request, app_id, version_id):
        return Response(AppVersionSerializer(self.version(request, app_id, version_id)).data)

    @extend_schema(
        tags=TAG,
        operation_id="versions_delete",
        responses={
            200: SuccessSerializer,
            409: OpenApiResponse(response=ERROR_REF, description=ERROR_DESCRIPTIONS[409]),
        },
        summary="Delete a version that was never published (and its package)",
    )
    def delete(self, request, app_id, version_id):
        services.version_delete(version=self.version(request, app_id, version_id), actor=request.user)
        return Response({"success": True})


class VersionUploadCompleteView(_VersionView):
    required_scopes = {"*": Scope.VERSIONS_UPLOAD}
    ratelimit_category = "upload"

    @extend_schema(
        tags=TAG,
        operation_id="versions_upload_complete",
        request=UploadCompleteSerializer,
        responses={200: AppVersionSerializer},
        summary="The package is uploaded: seal it, record the signature and start validation",
        description=(
            "The uploaded object is copied to a key no upload URL can write and validated there; the upload "
            "URL is dead for this version from now on. 409 unless the version is `uploading` (or `rejected` "
            "with an `INTERNAL` error, to retry). A repeat with the same `Idempotency-Key` returns the first "
            "answer."
        ),
    )
    @idempotent
    def put(self, request, app_id, version_id):
        data = UploadCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.version_upload_complete(
            version=self.version(request, app_id, version_id), actor=request.user, **data.validated_data
        )
        return Response(AppVersionSerializer(version).data)


class VersionUploadUrlView(_VersionView):
    required_scopes = {"*": Scope.VERSIONS_UPLOAD}
    ratelimit_category = "upload"

    @extend_schema(
        tags=TAG,
        operation_id="versions_upload_url",
        request=None,
        responses={200: VersionCreatedSerializer},
        summary="A fresh upload URL for a version still uploading (the last one expired or was used)",
        description=(
            "Upload URLs live at most 15 minutes; a local one takes one upload and asking for a new one "
            "invalidates the old. 409 once the version left `uploading`."
        ),
    )
    def post(self, request, app_id, version_id):
        version = self.version(request, app_id, version_id)
        target = services.version_upload_target(version=version)
        return Response(_created_body(version, target))


def _action_view(name: str, service, scope: str, summary: str):
    class ActionView(_VersionView):
        required_scopes = {"*": scope}

        @extend_schema(
            tags=TAG,
            operation_id=f"versions_{name}",
            request=None,
            responses={200: AppVersionSerializer},
            summary=summary,
            description=(
                "409 naming the current state when the move is not allowed from it, also when the version "
                "is already there; a repeat with the same `Idempotency-Key` returns the first answer."
            ),
        )
        @idempotent
        def post(self, request, app_id, version_id):
            version = service(version=self.version(request, app_id, version_id), actor=request.user)
            return Response(AppVersionSerializer(version).data)

    ActionView.__name__ = ActionView.__qualname__ = f"Version{name.title()}View"
    return ActionView


VersionSubmitView = _action_view(
    "submit", services.version_submit, Scope.VERSIONS_UPLOAD, "Submit a validated draft for review"
)
VersionPublishView = _action_view(
    "publish", services.version_publish, Scope.VERSIONS_PUBLISH, "Publish an approved version"
)
VersionYankView = _action_view(
    "yank",
    services.version_yank,
    Scope.VERSIONS_PUBLISH,
    "Hide a published version from 'latest' (exact downloads keep working)",
)


@method_decorator(csrf_exempt, name="dispatch")
class LocalUploadView(View):
    """``PUT /v1/uploads/<token>``: the embedded-mode stand-in for a presigned S3 PUT.

    Authorised only by the signed, expiring token (``UPLOAD_URL_TTL``, at most 15 minutes), and single-use.
    The body is streamed to a temporary file in 1 MiB chunks and refused with 413 as soon as it passes
    ``MAX_PACKAGE_SIZE`` (a declared Content-Length over the limit is refused before reading). The token's
    Content-Type and size bind the request. Whether the bytes land is decided at the end, under the
    version's row lock (``version_upload_store``): a used or replaced URL, or a version that left
    ``uploading`` while the body streamed, answers 409 and nothing is stored.
    """

    http_method_names = ["put", "options"]

    def put(self, request, token: str):
        if storage.is_s3():
            return error_json_response(ErrorCode.NOT_FOUND, "Uploads go straight to object storage here.")
        try:
            claims = storage.read_upload_token(token, settings.UPLOAD_URL_TTL)
        except signing.SignatureExpired:
            return error_json_response(ErrorCode.FORBIDDEN, "This upload URL has expired.")
        except signing.BadSignature:
            return error_json_response(ErrorCode.FORBIDDEN, "This upload URL is not valid.")
        key = claims["k"]
        content_type = request.META.get("CONTENT_TYPE", "").split(";")[0].strip()
        if content_type != claims["ct"]:
            return error_json_response(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                f"The upload must be sent with Content-Type: {claims['ct']}.",
                {"Content-Type": [f"Must be {claims['ct']}."]},
            )
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = settings.MAX_PACKAGE_SIZE
        if declared > limit:
            return _too_large(limit)
        if declared <= 0:
            return error_json_response(
                ErrorCode.VALIDATION_ERROR,
                "The upload needs a body and a Content-Length header.",
                {"Content-Length": ["Required and greater than 0."]},
            )
        if claims.get("n") is not None and declared != claims["n"]:
            return error_json_response(
                ErrorCode.VALIDATION_ERROR,
                f"This URL accepts exactly {claims['n']} bytes.",
                {"Content-Length": [f"Must be {claims['n']}."]},
            )
        version = AppVersion.objects.filter(upload_key=key).only("status", "upload_nonce").first()
        if version is None:
            return error_json_response(ErrorCode.NOT_FOUND, "The version of this upload no longer exists.")
        try:
            # Refused early what would be refused at the end anyway; the end decides, under the lock.
            services.version_upload_check(version=version, single_use_id=claims.get("u", ""))
            staged = storage.stage_stream(key, request, max_size=limit)
            services.version_upload_store(
                version_id=version.pk, single_use_id=claims.get("u", ""), staged=staged
            )
        except storage.TooLarge:
            return _too_large(limit)
        except ApplicationError as error:
            return error_json_response(error.code, error.message, error.details)
        return JsonResponse({"size": staged.size}, status=200)


def _too_large(limit: int):
    return error_json_response(
        ErrorCode.PAYLOAD_TOO_LARGE,
        f"Packages may be at most {limit} bytes.",
        {"body": [f"At most {limit} bytes."]},
    )
