"""Thin views for reviews, abuse reports and the device endpoints: validate, call one service, answer."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from mosis.core.clientip import client_ip
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.idempotency import idempotent
from mosis.core.pagination import PaginatedListMixin
from store.catalog.selectors import listed_app_for_package
from store.catalog.services.cache import store_cache_fetch
from store.community.serializers import (
    AbuseReportInputSerializer,
    AbuseReportSerializer,
    ReviewInputSerializer,
    ReviewReplyInputSerializer,
    ReviewReplySerializer,
    ReviewSerializer,
)
from store.community.services import abuse, reviews
from store.http import cached_json_response


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
