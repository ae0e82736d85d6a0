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
from rest_framework import mixins, serializers
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from accounts.constants import Scope
from accounts.permissions import HasScope, IsDeveloper
from apps.policies import app_for_owner
from mosis.core import storage
from mosis.core.errors import ApplicationError, ErrorCode, error_json_response
from mosis.core.filters import QueryFiltersMixin
from mosis.core.idempotency import idempotent
from mosis.core.pagination import PaginatedListMixin
from mosis.core.schema import ERROR_DESCRIPTIONS, ERROR_REF

from . import selectors, services
from .filters import VersionFilterSet
from .models import AppVersion
from .serializers import (
    AppVersionSerializer,
    SuccessSerializer,
    UploadCompleteSerializer,
    VersionCreatedSerializer,
    VersionCreateSerializer,
)

TAG = ["versions"]
STATE_MOVE_DESCRIPTION = (
    "409 naming the current state when the move is not allowed from it, also when the version is already "
    "there; a repeat with the same `Idempotency-Key` returns the first answer."
)


def _created_body(version: AppVersion, target: storage.UploadTarget) -> dict:
    return {
        "version": AppVersionSerializer(version).data,
        "upload_url": target.url,
        "upload_expires": serializers.DateTimeField().to_representation(version.upload_expires_at),
        "upload_method": target.method,
        "upload_headers": target.headers,
    }


# /v1/apps/{app_id}/versions: one of the caller's apps' versions (another developer's app is a 404).
class VersionViewSet(QueryFiltersMixin, PaginatedListMixin, mixins.ListModelMixin, GenericViewSet):
    permission_classes = [IsDeveloper, HasScope]
    required_scopes = {
        "list": Scope.APPS_READ,
        "retrieve": Scope.APPS_READ,
        "create": Scope.VERSIONS_UPLOAD,
        "destroy": Scope.VERSIONS_UPLOAD,
        "upload_complete": Scope.VERSIONS_UPLOAD,
        "upload_url": Scope.VERSIONS_UPLOAD,
        "submit": Scope.VERSIONS_UPLOAD,
        "publish": Scope.VERSIONS_PUBLISH,
        "yank": Scope.VERSIONS_PUBLISH,
    }
    ratelimit_category = {"create": "upload", "upload_complete": "upload", "upload_url": "upload"}
    queryset = AppVersion.objects.none()  # the model, for the schema; reads go through selectors
    serializer_class = AppVersionSerializer
    filterset_class = VersionFilterSet
    items_key = "versions"
    lookup_url_kwarg = "version_id"

    def app(self):
        return app_for_owner(user=self.request.user, app_id=self.kwargs["app_id"])

    def version(self) -> AppVersion:
        version = selectors.version_get(app=self.app(), version_id=self.kwargs["version_id"])
        if version is None:
            raise ApplicationError(ErrorCode.NOT_FOUND, "Version not found.")
        return version

    def get_queryset(self):
        return selectors.version_list(app=self.app(), **self.query_filters())

    @extend_schema(
        tags=TAG,
        operation_id="versions_list",
        responses={200: AppVersionSerializer(many=True)},
        summary="List an app's versions, newest version_code first",
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        operation_id="versions_create",
        request=VersionCreateSerializer,
        responses={201: VersionCreatedSerializer},
        summary="Create a version and get the URL to PUT its package to",
    )
    @idempotent
    def create(self, request, app_id):
        data = VersionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version, target = services.version_create(app=self.app(), actor=request.user, **data.validated_data)
        return Response(_created_body(version, target), status=http.HTTP_201_CREATED)

    @extend_schema(
        tags=TAG, operation_id="versions_retrieve", responses={200: AppVersionSerializer}, summary="A version"
    )
    def retrieve(self, request, app_id, version_id):
        return Response(AppVersionSerializer(self.version()).data)

    @extend_schema(
        tags=TAG,
        operation_id="versions_delete",
        responses={
            200: SuccessSerializer,
            409: OpenApiResponse(response=ERROR_REF, description=ERROR_DESCRIPTIONS[409]),
        },
        summary="Delete a version that was never published (and its package)",
    )
    def destroy(self, request, app_id, version_id):
        services.version_delete(version=self.version(), actor=request.user)
        return Response({"success": True})

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
    @action(detail=True, methods=["put"], url_path="upload-complete")
    @idempotent
    def upload_complete(self, request, app_id, version_id):
        data = UploadCompleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.version_upload_complete(
            version=self.version(), actor=request.user, **data.validated_data
        )
        return Response(AppVersionSerializer(version).data)

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
    @action(detail=True, methods=["post"], url_path="upload-url")
    def upload_url(self, request, app_id, version_id):
        version = self.version()
        target = services.version_upload_target(version=version)
        return Response(_created_body(version, target))

    @extend_schema(
        tags=TAG,
        operation_id="versions_submit",
        request=None,
        responses={200: AppVersionSerializer},
        summary="Submit a validated draft for review",
        description=STATE_MOVE_DESCRIPTION,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def submit(self, request, app_id, version_id):
        return self._move(services.version_submit)

    @extend_schema(
        tags=TAG,
        operation_id="versions_publish",
        request=None,
        responses={200: AppVersionSerializer},
        summary="Publish an approved version",
        description=STATE_MOVE_DESCRIPTION,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def publish(self, request, app_id, version_id):
        return self._move(services.version_publish)

    @extend_schema(
        tags=TAG,
        operation_id="versions_yank",
        request=None,
        responses={200: AppVersionSerializer},
        summary="Hide a published version from 'latest' (exact downloads keep working)",
        description=STATE_MOVE_DESCRIPTION,
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def yank(self, request, app_id, version_id):
        return self._move(services.version_yank)

    def _move(self, service):
        version = service(version=self.version(), actor=self.request.user)
        return Response(AppVersionSerializer(version).data)


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
