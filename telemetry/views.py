"""Telemetry API (SPEC §5): thin views over ``telemetry.services`` and ``telemetry.selectors``.

Ingestion (``/v1/telemetry/*``) takes a device token (any existing app) or a developer credential holding
``telemetry:write`` (their own apps). Reading (``/v1/apps/{id}/analytics``, ``/v1/apps/{id}/crashes``) is the
owner's, or an API key's with ``telemetry:read``; another developer's app is a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.constants import Scope
from accounts.permissions import HasScope, IsDeveloper, IsDevice, require_scope
from apps.policies import app_for_owner
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.idempotency import idempotent
from mosis.core.pagination import StandardPagination

from . import selectors, services
from .parsers import BatchJSONParser
from .serializers import (
    AnalyticsQuerySerializer,
    AnalyticsSerializer,
    CrashCreatedSerializer,
    CrashDetailSerializer,
    CrashQuerySerializer,
    CrashReportInputSerializer,
    CrashReportSerializer,
    EventBatchSerializer,
    IngestResultSerializer,
    crash_report_input,
)

TAG = ["telemetry"]
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A repeat with the same key and body within 24 h replays the first answer and stores nothing; "
    "the same key with another body is a 409.",
)


class CanSubmitTelemetry(BasePermission):
    """A device token, or a developer credential holding ``telemetry:write`` (403 naming it otherwise)."""

    def has_permission(self, request, view) -> bool:
        if IsDevice().has_permission(request, view):
            return True
        if request.user and request.user.is_authenticated:
            require_scope(request, Scope.TELEMETRY_WRITE)
            return True
        return False


def _principal(request) -> dict:
    if IsDevice().has_permission(request, None):
        return {"device": request.auth}
    return {"owner": request.user}


class TelemetryEventsView(APIView):
    permission_classes = [CanSubmitTelemetry]
    ratelimit_category = "telemetry"
    parser_classes = [BatchJSONParser]  # a 1 000-event batch is up to 1 MiB of JSON

    @extend_schema(
        tags=TAG,
        operation_id="telemetry_events_submit",
        summary="Submit a batch of telemetry events (at most 1 000, 1 MiB)",
        description="Each event is validated on its own: the valid ones are stored, the others listed in "
        "`rejected` with their index. An unknown app (or, with a developer credential, another developer's "
        "app) rejects that event. More than 1 000 events is a 400, a body over 1 MiB a 413.",
        request=EventBatchSerializer,
        responses={200: IngestResultSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        data = request.data
        events = data.get("events") if isinstance(data, dict) else None
        if isinstance(data, dict) and set(data) - {"events"}:
            raise ApplicationError(
                ErrorCode.VALIDATION_ERROR,
                "The body has only one field: events.",
                {name: ["Unknown field."] for name in sorted(set(data) - {"events"})},
            )
        result = services.events_ingest(events=events, **_principal(request))
        return Response(result.as_dict())


class CrashReportView(APIView):
    permission_classes = [CanSubmitTelemetry]
    ratelimit_category = "telemetry"

    @extend_schema(
        tags=TAG,
        operation_id="telemetry_crash_submit",
        summary="Submit a crash report; answers the crash group it was counted in",
        description="201 when the report opened a new crash group (which fires the crash.new webhook), 200 "
        "when it joined an existing one.",
        request=CrashReportInputSerializer,
        responses={201: CrashCreatedSerializer, 200: CrashCreatedSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent
    def post(self, request):
        result = services.crash_report_submit(**crash_report_input(request.data), **_principal(request))
        return Response(
            {"id": str(result.group_id)}, status=http.HTTP_201_CREATED if result.created else http.HTTP_200_OK
        )


class _AppTelemetryView(APIView):
    permission_classes = [IsDeveloper, HasScope]
    required_scopes = {"*": Scope.TELEMETRY_READ}
    ratelimit_category = "read"

    def app(self, request, app_id):
        return app_for_owner(user=request.user, app_id=app_id)


class AppAnalyticsView(_AppTelemetryView):
    @extend_schema(
        tags=TAG,
        operation_id="apps_analytics",
        summary="Daily downloads, active users and crashes of one of the caller's apps",
        description="One row per UTC day from start_date to end_date (at most 366 days), zero-filled; only "
        "the metrics asked for. Today's row is rolled up hourly.",
        parameters=[AnalyticsQuerySerializer],
        responses={200: AnalyticsSerializer},
    )
    def get(self, request, app_id):
        app = self.app(request, app_id)
        query = AnalyticsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response({"data": selectors.app_analytics(app=app, **query.validated_data)})


class CrashesPagination(StandardPagination):
    items_key = "crashes"


class AppCrashListView(_AppTelemetryView):
    pagination_class = CrashesPagination
    items_key = "crashes"
    serializer_class = CrashReportSerializer

    @extend_schema(
        tags=TAG,
        operation_id="apps_crashes_list",
        summary="Crash groups of one of the caller's apps, most recently seen first",
        description="With version, only the groups seen in that app version, with that version's counts.",
        parameters=[CrashQuerySerializer],
        responses={200: CrashReportSerializer(many=True)},
    )
    def get(self, request, app_id):
        app = self.app(request, app_id)
        query = CrashQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        groups = selectors.crash_groups_for_app(app=app, version=query.validated_data.get("version"))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(groups, request, view=self)
        return paginator.get_paginated_response(CrashReportSerializer(page, many=True).data)


class AppCrashDetailView(_AppTelemetryView):
    @extend_schema(
        tags=TAG,
        operation_id="apps_crashes_retrieve",
        summary="One crash group with its counts per version and its most recent raw reports",
        responses={200: CrashDetailSerializer},
    )
    def get(self, request, app_id, crash_id):
        group = selectors.crash_group_detail(app=self.app(request, app_id), group_id=crash_id)
        if group is None:
            raise ApplicationError(ErrorCode.NOT_FOUND, "Crash group not found.")
        return Response(CrashDetailSerializer(group).data)
