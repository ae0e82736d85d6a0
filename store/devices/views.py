"""Thin views for the device endpoints (device token): the installed set, updates, plans and a device's view
of one app. Validate, call one service, answer."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsDevice
from mosis.core.errors import ApplicationError, ErrorCode
from store.devices.serializers import (
    DeviceAppAvailableSerializer,
    InstalledSetInputSerializer,
    InstalledSetSerializer,
    InstalledSetUpdatesInputSerializer,
    PlanInputSerializer,
    PlanSerializer,
    UpdatesSerializer,
)
from store.devices.services import installed as devices
from store.devices.services import store_view as device_store


class DeviceView(APIView):
    """Base for ``/v1/devices/me/...``: a device token (``md_``) is required.

    No credential answers 401; a user's JWT or API key answers 403 (authenticated, but not as a device).
    """

    permission_classes = [IsDevice]


class DeviceAppsView(DeviceView):
    ratelimit_category = {"GET": "read", "PUT": "write"}

    @extend_schema(
        operation_id="devices_me_apps_list",
        summary="The installed set this device last reported, with the store's view of each app",
        responses={200: InstalledSetSerializer},
    )
    def get(self, request):
        rows = device_store.device_apps_view(device=request.auth)
        return Response(InstalledSetSerializer({"apps": rows}).data)

    @extend_schema(
        operation_id="devices_me_apps_replace",
        summary="Replace the installed set (at most 1000 apps, each with an optional config of its settings)",
        request=InstalledSetInputSerializer,
        responses={200: InstalledSetSerializer},
    )
    def put(self, request):
        data = InstalledSetInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        devices.device_apps_replace(device=request.auth, apps=data.validated_data["apps"])
        rows = device_store.device_apps_view(device=request.auth)
        return Response(InstalledSetSerializer({"apps": rows}).data)


class DeviceAppStoreView(DeviceView):
    ratelimit_category = "read"

    @extend_schema(
        operation_id="devices_me_store_app",
        summary="An app as this device sees it (seed 002 ApiAppAvailableFull): status, versions, requirements",
        responses={200: DeviceAppAvailableSerializer},
    )
    def get(self, request, package_id: str):
        view = device_store.device_app_store_view(device=request.auth, package_id=package_id)
        return Response(DeviceAppAvailableSerializer(view).data)


class DeviceUpdatesView(DeviceView):
    ratelimit_category = "read"

    @extend_schema(
        operation_id="devices_me_updates",
        summary="Updates (newest compatible) for the installed set, and the apps to turn off",
        request=InstalledSetUpdatesInputSerializer,
        responses={200: UpdatesSerializer},
    )
    def post(self, request):
        data = InstalledSetUpdatesInputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        result = devices.device_updates_check(device=request.auth, apps=data.validated_data.get("apps"))
        return Response(UpdatesSerializer(result).data)


class DevicePlanView(DeviceView):
    ratelimit_category = "read"

    @extend_schema(
        operation_id="devices_me_plan",
        summary="Dry-run install/uninstall plan: ordered steps, breakages and violations (dryrun=1 required)",
        parameters=[
            OpenApiParameter(
                "dryrun",
                str,
                OpenApiParameter.QUERY,
                required=True,
                enum=["1", "true"],
                description="Must be 1: only dry runs exist; the device installs by downloading the steps.",
            )
        ],
        request=PlanInputSerializer,
        responses={200: PlanSerializer},
    )
    def post(self, request):
        if request.query_params.get("dryrun", "").lower() not in ("1", "true"):
            raise ApplicationError(
                ErrorCode.VALIDATION_ERROR,
                "Only dry runs exist: call with ?dryrun=1 and install by downloading the planned steps.",
                {"dryrun": ["Must be 1."]},
            )
        data = PlanInputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        install = [
            (item["package_id"], (item.get("version") or None))
            for item in data.validated_data.get("install", [])
        ]
        result = devices.device_plan(
            device=request.auth,
            install=install,
            uninstall=data.validated_data.get("uninstall", []),
            decline=data.validated_data.get("decline", []),
        )
        return Response(PlanSerializer(result).data)
