"""``/v1/apps`` (owner only): thin views over ``apps.services`` and ``versions.selectors``.

They live in versions, not apps, because an App is answered with its latest published version and an app is
deleted with its versions: both are reads and rules of versions, which sits above apps (docs/architecture.md).
The App's own writes stay ``apps.services``; the requests are validated by ``apps.serializers``.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework import status as http_status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from accounts.permissions import HasScope
from apps.constants import AppStatus
from apps.filters import AppFilterSet
from apps.policies import app_for_owner
from apps.serializers import (
    AppCreateSerializer,
    AppUpdateSerializer,
    DeleteResultSerializer,
)
from apps.services import app_create, app_set_status, app_update
from mosis.core.filters import QueryFiltersMixin
from mosis.core.idempotency import idempotent
from mosis.core.pagination import PaginatedListMixin

from .selectors import app_with_details, apps_with_latest_version
from .serializers import AppSerializer
from .services import app_delete

READ_SCOPES = {"GET": "apps:read", "HEAD": "apps:read", "OPTIONS": "apps:read", "*": "apps:write"}
RATE_CATEGORIES = {"GET": "read", "HEAD": "read", "OPTIONS": "read", "*": "write"}


class AppViewSet(QueryFiltersMixin, PaginatedListMixin, mixins.ListModelMixin, GenericViewSet):
    """A developer's own apps; another developer's app id answers 404 (SPEC §4)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = READ_SCOPES
    ratelimit_category = RATE_CATEGORIES
    serializer_class = AppSerializer
    items_key = "apps"
    filterset_class = AppFilterSet
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):  # the list; one app is read through apps.policies
        return apps_with_latest_version(user=self.request.user, **self.query_filters())

    @extend_schema(summary="List the caller's apps", responses={200: AppSerializer(many=True)})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="Create an app (draft)",
        request=AppCreateSerializer,
        responses={201: AppSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    @idempotent
    def create(self, request):
        data = AppCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        app = app_create(owner=request.user, **data.validated_data)
        return Response(AppSerializer(app_with_details(app=app)).data, status=http_status.HTTP_201_CREATED)

    @extend_schema(summary="Get one of the caller's apps", responses={200: AppSerializer})
    def retrieve(self, request, pk=None):
        app = app_for_owner(user=request.user, app_id=pk)
        return Response(AppSerializer(app_with_details(app=app)).data)

    @extend_schema(
        summary="Update an app's metadata (status, package_id and owner are read-only: naming them is a 400)",
        request=AppUpdateSerializer,
        responses={200: AppSerializer},
    )
    def partial_update(self, request, pk=None):
        app = app_for_owner(user=request.user, app_id=pk)
        data = AppUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        app = app_update(app=app, actor=request.user, **data.validated_data)
        return Response(AppSerializer(app_with_details(app=app)).data)

    @extend_schema(
        summary="Delete an app that never had a published version (409 otherwise: unlist it instead)",
        responses={200: DeleteResultSerializer},
    )
    def destroy(self, request, pk=None):
        app = app_for_owner(user=request.user, app_id=pk)
        app_delete(app=app, actor=request.user)
        return Response({"success": True})

    @extend_schema(
        summary="Unlist a published app: it leaves browse, search and the catalog, stays reachable by id",
        description="SPEC §6 `published → unlisted` by the owner. 409 naming the state from any other state "
        "(a draft, an app already unlisted); 403 for an app staff hid.",
        request=None,
        responses={200: AppSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def unlist(self, request, pk=None):
        return self._set_status(request, pk, AppStatus.UNLISTED)

    @extend_schema(
        summary="List an unlisted app again",
        description="SPEC §6 `unlisted → published` by the owner; 409 naming the state from any other state.",
        request=None,
        responses={200: AppSerializer},
    )
    @action(detail=True, methods=["post"])
    @idempotent
    def relist(self, request, pk=None):
        return self._set_status(request, pk, AppStatus.PUBLISHED)

    def _set_status(self, request, pk, to: str):
        app = app_for_owner(user=request.user, app_id=pk)
        app = app_set_status(app=app, to=to, actor=request.user)
        return Response(AppSerializer(app_with_details(app=app)).data)
