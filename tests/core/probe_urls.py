"""A test-only URLconf: the real routes plus probe views that exercise the shared plumbing in isolation.

Used with ``@pytest.mark.urls("tests.core.probe_urls")``. Probes live under ``/v1/_probe/`` so the API
middleware treats them like any endpoint, and come before the real catch-all for unknown ``/v1`` paths.
"""

from django.contrib.auth.models import Group
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasScope
from mosis import urls as real_urls
from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.idempotency import idempotent
from mosis.core.pagination import StandardPagination


class ProbeInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=20)
    count = serializers.IntegerField(min_value=1)
    tags = serializers.ListField(child=serializers.CharField(max_length=5), required=False)


class EchoView(APIView):
    """POST validates a body (field errors) and echoes it; needs authentication (the project default)."""

    def post(self, request):
        serializer = ProbeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)


class PublicEchoView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"received": request.data})


class ScopedView(APIView):
    permission_classes = [HasScope]
    required_scopes = {"*": "keys:manage"}

    def get(self, request):
        return Response({"ok": True})


class BoomView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internal detail: db password is hunter2")


class UnavailableView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        raise ApplicationError(ErrorCode.SERVICE_UNAVAILABLE, "Storage is unreachable.")


class ConflictView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def post(self, request):
        raise ApplicationError(ErrorCode.CONFLICT, "The version is in 'review'.", {"status": ["review"]})


class NumbersView(APIView):
    """A list of 0..count-1 through the standard pagination."""

    authentication_classes = []
    permission_classes = [AllowAny]
    items_key = "numbers"
    count = 45

    def get(self, request):
        paginator = StandardPagination()
        page = paginator.paginate_queryset(list(range(self.count)), request, view=self)
        return paginator.get_paginated_response(page)


class GroupListView(APIView):
    """A queryset list through the standard pagination (for query counts)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    items_key = "groups"

    def get(self, request):
        paginator = StandardPagination()
        page = paginator.paginate_queryset(Group.objects.order_by("name"), request, view=self)
        return paginator.get_paginated_response([{"name": g.name} for g in page])


class IdempotentCreateView(APIView):
    """Creates a Group named in the body; the rate-limit category is ``write`` (the default for POST)."""

    @idempotent
    def post(self, request):
        name = request.data.get("name")
        if not name:
            raise ApplicationError(ErrorCode.VALIDATION_ERROR, "name is required", {"name": ["Required."]})
        group = Group.objects.create(name=name)
        return Response({"id": group.pk, "name": group.name}, status=201)


class AuthCategoryView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    ratelimit_category = "auth"

    def post(self, request):
        return Response({"ok": True})


@csrf_exempt
@require_http_methods(["GET"])
def plain_django_get_only(request):
    return HttpResponse("plain", content_type="text/plain")


def plain_django_forbidden(request):
    return HttpResponse("<h1>Forbidden</h1>", status=403)


urlpatterns = [
    path("v1/_probe/echo", EchoView.as_view()),
    path("v1/_probe/public", PublicEchoView.as_view()),
    path("v1/_probe/scoped", ScopedView.as_view()),
    path("v1/_probe/boom", BoomView.as_view()),
    path("v1/_probe/unavailable", UnavailableView.as_view()),
    path("v1/_probe/conflict", ConflictView.as_view()),
    path("v1/_probe/numbers", NumbersView.as_view()),
    path("v1/_probe/groups", GroupListView.as_view()),
    path("v1/_probe/create", IdempotentCreateView.as_view()),
    path("v1/_probe/auth", AuthCategoryView.as_view()),
    path("v1/_probe/plain", plain_django_get_only),
    path("v1/_probe/plain-forbidden", plain_django_forbidden),
    *real_urls.urlpatterns,
]

handler404 = real_urls.handler404
handler500 = real_urls.handler500
