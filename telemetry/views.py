"""Telemetry API (SPEC §5): thin views over ``telemetry.services`` and ``telemetry.selectors``.

Ingestion (``/v1/telemetry/*``) takes a device token (any existing app) or a developer credential holding
``telemetry:write`` (their own apps). Reading (``/v1/apps/{id}/analytics``, ``/v1/apps/{id}/crashes``) is the
owner's, or an API key's with ``telemetry:read``; another developer's app is a 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from accounts.constants import Scope
from accounts.models import Device
from accounts.permissions import CanSubmitTelemetry, HasScope, IsDeveloper
from apps.policies import app_for_owner
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.filters import QueryFiltersMixin
from mosis.core.idempotency import idempotent
from mosis.core.pagination import PaginatedListMixin

from . import selectors, services
from .filters import AnalyticsFilterSet, CrashGroupFilterSet
from .models import AppDailyStats, CrashGroup
from .parsers import BatchJSONParser
from .serializers import (
    AnalyticsSerializer,
    CrashCreatedSerializer,
    CrashDetailSerializer,
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


def _principal(request) -> dict:
    if isinstance(request.auth, Device):
        return {"device": request.auth}
    return {"owner": request.user}


class TelemetryViewSet(GenericViewSet):
    """``/v1/telemetry/*``: what devices (or a developer holding ``telemetry:write``) send."""

    permission_classes = [CanSubmitTelemetry]
    ratelimit_category = "telemetry"

    def get_serializer_class(self):  # what OPTIONS describes; the actions validate as documented below
        return EventBatchSerializer if self.action == "events" else CrashReportInputSerializer

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
    # A 1 000-event batch is up to 1 MiB of JSON: its own parser (the router hands it to this action's view).
    @action(detail=False, methods=["post"], parser_classes=[BatchJSONParser])
    @idempotent
    def events(self, request):
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
    @action(detail=False, methods=["post"])
    @idempotent
    def crash(self, request):
        result = services.crash_report_submit(**crash_report_input(request.data), **_principal(request))
        return Response(
            {"id": str(result.group_id)}, status=http.HTTP_201_CREATED if result.created else http.HTTP_200_OK
        )


class _AppTelemetryMixin:
    """Reads of one of the caller's apps: the owner's developer credential, or an API key with
    ``telemetry:read``; another developer's app is a 404."""

    permission_classes = [IsDeveloper, HasScope]
    required_scopes = {"*": Scope.TELEMETRY_READ}
    ratelimit_category = "read"

    def app(self):
        return app_for_owner(user=self.request.user, app_id=self.kwargs["app_id"])


class AppAnalyticsView(_AppTelemetryMixin, QueryFiltersMixin, GenericAPIView):
    queryset = AppDailyStats.objects.none()  # the model, for the schema; the selector reads
    filterset_class = AnalyticsFilterSet
    serializer_class = AnalyticsSerializer

    @extend_schema(
        tags=TAG,
        operation_id="apps_analytics",
        summary="Daily downloads, active users and crashes of one of the caller's apps",
        description="One row per UTC day from start_date to end_date (at most 366 days), zero-filled; only "
        "the metrics asked for. Today's row is rolled up hourly.",
        responses={200: AnalyticsSerializer},
    )
    def get(self, request, app_id):
        app = self.app()
        return Response({"data": selectors.app_analytics(app=app, **self.query_filters())})


class AppCrashViewSet(
    _AppTelemetryMixin, QueryFiltersMixin, PaginatedListMixin, mixins.ListModelMixin, GenericViewSet
):
    queryset = CrashGroup.objects.none()  # the model, for the schema; reads go through selectors
    filterset_class = CrashGroupFilterSet
    serializer_class = CrashReportSerializer
    items_key = "crashes"
    lookup_url_kwarg = "crash_id"

    def get_queryset(self):
        return selectors.crash_groups_for_app(app=self.app(), **self.query_filters())

    @extend_schema(
        tags=TAG,
        operation_id="apps_crashes_list",
        summary="Crash groups of one of the caller's apps, most recently seen first",
        description="With version, only the groups seen in that app version, with that version's counts.",
        responses={200: CrashReportSerializer(many=True)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        operation_id="apps_crashes_retrieve",
        summary="One crash group with its counts per version and its most recent raw reports",
        responses={200: CrashDetailSerializer},
    )
    def retrieve(self, request, app_id, crash_id):
        group = selectors.crash_group_detail(app=self.app(), group_id=crash_id)
        if group is None:
            raise ApplicationError(ErrorCode.NOT_FOUND, "Crash group not found.")
        return Response(CrashDetailSerializer(group).data)
