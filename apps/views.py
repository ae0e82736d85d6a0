"""``/v1/apps`` (owner only) and ``/v1/events``: thin views over ``apps.services`` and ``apps.selectors``."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http_status
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from accounts.permissions import HasScope
from mosis.core.idempotency import idempotent
from mosis.core.pagination import PaginatedListMixin

from .constants import AppStatus
from .policies import app_for_owner
from .selectors import app_list, app_with_details, event_list
from .serializers import (
    ActivityEventSerializer,
    AppCreateSerializer,
    AppListQuerySerializer,
    AppSerializer,
    AppUpdateSerializer,
    DeleteResultSerializer,
    EventQuerySerializer,
)
from .services import app_create, app_delete, app_set_status, app_update

READ_SCOPES = {"GET": "apps:read", "HEAD": "apps:read", "OPTIONS": "apps:read", "*": "apps:write"}
RATE_CATEGORIES = {"GET": "read", "HEAD": "read", "OPTIONS": "read", "*": "write"}


class AppViewSet(PaginatedListMixin, GenericViewSet):
    """A developer's own apps; another developer's app id answers 404 (SPEC §4)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = READ_SCOPES
    ratelimit_category = RATE_CATEGORIES
    serializer_class = AppSerializer
    items_key = "apps"
    lookup_value_regex = "[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):  # used by the schema generator only; reads go through selectors
        return app_list(user=self.request.user)

    @extend_schema(
        summary="List the caller's apps",
        parameters=[AppListQuerySerializer],
        responses={200: AppSerializer(many=True)},
    )
    def list(self, request):
        query = AppListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        apps = app_list(user=request.user, status=query.validated_data.get("status"))
        page = self.paginate_queryset(apps)
        return self.get_paginated_response(AppSerializer(page, many=True).data)

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


class EventListView(PaginatedListMixin, GenericAPIView):
    """The activity feed (seed 003): the caller's own apps' events, newest first (staff: all)."""

    permission_classes = [IsAuthenticated, HasScope]
    required_scopes = {"*": "apps:read"}
    ratelimit_category = "read"
    serializer_class = ActivityEventSerializer
    items_key = "events"

    def get_queryset(self):  # schema only
        return event_list(user=self.request.user)

    @extend_schema(
        summary="Activity feed of the caller's apps",
        parameters=[EventQuerySerializer],
        responses={200: ActivityEventSerializer(many=True)},
    )
    def get(self, request):
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        events = event_list(user=request.user, **query.validated_data)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(ActivityEventSerializer(page, many=True).data)
