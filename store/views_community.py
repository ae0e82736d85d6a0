"""Thin views for reviews, abuse reports and the device endpoints: validate, call one service, answer."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsDevice
from mosis.core.clientip import client_ip
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.idempotency import idempotent
from mosis.core.pagination import PaginatedListMixin
from store.selectors import listed_app_for_package
from store.serializers_community import (
    AbuseReportInputSerializer,
    AbuseReportSerializer,
    DeviceAppAvailableSerializer,
    InstalledSetInputSerializer,
    InstalledSetSerializer,
    InstalledSetUpdatesInputSerializer,
    PlanInputSerializer,
    PlanSerializer,
    ReviewInputSerializer,
    ReviewReplyInputSerializer,
    ReviewReplySerializer,
    ReviewSerializer,
    UpdatesSerializer,
)
from store.services import abuse, device_store, devices, reviews
from store.services.cache import store_cache_fetch
from store.views_catalog import cached_json_response


def _author_required(request) -> None:
    """Reviews and reports belong to a person: a device token is not enough (403)."""
    if not (request.user and request.user.is_authenticated):
        raise ApplicationError(ErrorCode.FORBIDDEN, "Sign in as a user (JWT or API key) to do this.")


REVIEWS_MAX_AGE = 60


class ReviewListCreateView(PaginatedListMixin, GenericAPIView):
    """``GET`` (public, cached, ETag) and ``POST`` (signed-in user) ``/v1/store/apps/{package_id}/reviews``."""

    serializer_class = ReviewSerializer
    items_key = "reviews"
    ratelimit_category = {"GET": "read", "POST": "write"}

    def get_authenticators(self):
        # Public reads ignore credentials entirely (a stale token must not turn a public read into a 401).
        if self.request is not None and self.request.method in ("GET", "HEAD"):
            return []
        return super().get_authenticators()

    def get_permissions(self):
        return [AllowAny()] if self.request.method in ("GET", "HEAD") else [IsAuthenticated()]

    @extend_schema(
        operation_id="store_app_reviews_list",
        summary="Visible reviews of an app, newest first, each with the developer's reply",
        auth=[],
        responses={
            200: ReviewSerializer(many=True),
            304: OpenApiResponse(description="Not modified (If-None-Match matched the ETag)"),
        },
    )
    def get(self, request, package_id: str):
        paging = tuple(request.query_params.get(name, "") for name in ("page", "limit", "offset"))

        def build():
            app = listed_app_for_package(package_id)
            paginator = self.pagination_class()
            page = paginator.paginate_queryset(reviews.reviews_visible_for_app(app=app), request, view=self)
            return paginator.envelope(ReviewSerializer(page, many=True).data)

        document = store_cache_fetch(
            kind="metadata", parts=("reviews", package_id, paging), build=build, package_id=package_id
        )
        return cached_json_response(request, document, max_age=REVIEWS_MAX_AGE)

    @extend_schema(
        operation_id="store_app_reviews_create",
        summary="Rate and review an app (a second review by the same user replaces the first)",
        request=ReviewInputSerializer,
        responses={
            201: OpenApiResponse(ReviewSerializer, description="Review created"),
            200: OpenApiResponse(ReviewSerializer, description="Earlier review replaced"),
        },
    )
    @idempotent
    def post(self, request, package_id: str):
        _author_required(request)
        data = ReviewInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        app = listed_app_for_package(package_id)
        review, created = reviews.review_upsert(app=app, user=request.user, **data.validated_data)
        review = reviews.reviews_visible_for_app(app=app).filter(pk=review.pk).first() or review
        return Response(
            ReviewSerializer(review).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ReviewReplyView(APIView):
    """``POST /v1/store/apps/{package_id}/reviews/{review_id}/reply``: the app developer's one reply."""

    permission_classes = [IsAuthenticated]
    ratelimit_category = "write"

    @extend_schema(
        operation_id="store_app_review_reply",
        summary="Reply to a review of your app (a second reply replaces the first)",
        request=ReviewReplyInputSerializer,
        responses={
            201: OpenApiResponse(ReviewReplySerializer, description="Reply created"),
            200: OpenApiResponse(ReviewReplySerializer, description="Earlier reply replaced"),
        },
    )
    def post(self, request, package_id: str, review_id):
        _author_required(request)
        data = ReviewReplyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        app = listed_app_for_package(package_id)
        review = reviews.review_for_app(app=app, review_id=review_id)
        reply, created = reviews.review_reply_set(
            review=review, author=request.user, body=data.validated_data["body"]
        )
        return Response(
            ReviewReplySerializer(reply).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class AbuseReportView(APIView):
    """``POST /v1/store/apps/{package_id}/report``."""

    permission_classes = [IsAuthenticated]
    ratelimit_category = "write"

    @extend_schema(
        operation_id="store_app_report_abuse",
        summary="Report an app as abusive (emails staff; enough distinct reporters hide it)",
        request=AbuseReportInputSerializer,
        responses={
            201: OpenApiResponse(AbuseReportSerializer, description="Report filed"),
            200: OpenApiResponse(AbuseReportSerializer, description="Your report from the last day updated"),
        },
    )
    @idempotent
    def post(self, request, package_id: str):
        _author_required(request)
        data = AbuseReportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        app = listed_app_for_package(package_id)
        abuse.abuse_ip_rate_check(ip=client_ip(request))
        report, created = abuse.abuse_report_submit(app=app, reporter=request.user, **data.validated_data)
        return Response(
            AbuseReportSerializer(report).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


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
        result = devices.device_updates_check(
            device=request.auth, apps=data.validated_data.get("apps"), request=request
        )
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
            request=request,
        )
        return Response(PlanSerializer(result).data)
