"""``/v1/webhooks``: thin views over ``apps.webhooks.services`` and ``apps.webhooks.selectors``.

A developer's credential only (a device token is a 401); reads need ``apps:read``, writes ``apps:write``.
Another developer's webhook id answers 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.constants import Scope
from accounts.permissions import HasScope, IsDeveloper
from mosis.core.idempotency import idempotent
from mosis.core.pagination import StandardPagination

from ..policies import webhook_for_owner
from ..serializers import DeleteResultSerializer
from . import selectors, services
from .serializers import (
    WebhookCreatedSerializer,
    WebhookCreateSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
)

TAG = ["webhooks"]
SCOPES = {"GET": Scope.APPS_READ, "HEAD": Scope.APPS_READ, "OPTIONS": Scope.APPS_READ, "*": Scope.APPS_WRITE}


class _WebhookView(APIView):
    permission_classes = [IsDeveloper, HasScope]
    required_scopes = SCOPES

    def webhook(self, request, webhook_id):
        return webhook_for_owner(user=request.user, webhook_id=webhook_id)


class WebhooksPagination(StandardPagination):
    items_key = "webhooks"


class DeliveriesPagination(StandardPagination):
    items_key = "deliveries"


class WebhookListCreateView(_WebhookView):
    pagination_class = WebhooksPagination
    items_key = "webhooks"
    serializer_class = WebhookSerializer

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_list",
        summary="The caller's webhooks, newest first",
        responses={200: WebhookSerializer(many=True)},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.webhooks_for_owner(owner=request.user), request, view=self
        )
        return paginator.get_paginated_response(WebhookSerializer(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_create",
        summary="Register a webhook for events of the caller's apps (the secret is shown only here)",
        request=WebhookCreateSerializer,
        responses={201: WebhookCreatedSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    @idempotent
    def post(self, request):
        data = WebhookCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook, secret = services.webhook_create(owner=request.user, **data.validated_data)
        body = {**WebhookSerializer(webhook).data, "secret": secret}
        return Response(body, status=http.HTTP_201_CREATED)


class WebhookDetailView(_WebhookView):
    @extend_schema(
        tags=TAG, operation_id="webhooks_retrieve", summary="A webhook", responses={200: WebhookSerializer}
    )
    def get(self, request, webhook_id):
        return Response(WebhookSerializer(self.webhook(request, webhook_id)).data)

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_delete",
        summary="Delete a webhook and its delivery log",
        responses={200: DeleteResultSerializer},
    )
    def delete(self, request, webhook_id):
        services.webhook_delete(webhook=self.webhook(request, webhook_id), actor=request.user)
        return Response({"success": True})


class WebhookDeliveriesView(_WebhookView):
    pagination_class = DeliveriesPagination
    items_key = "deliveries"
    serializer_class = WebhookDeliverySerializer

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_deliveries",
        summary="A webhook's deliveries, newest first, each with every attempt",
        responses={200: WebhookDeliverySerializer(many=True)},
    )
    def get(self, request, webhook_id):
        deliveries = selectors.webhook_deliveries(webhook=self.webhook(request, webhook_id))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(deliveries, request, view=self)
        return paginator.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class WebhookPingView(_WebhookView):
    @extend_schema(
        tags=TAG,
        operation_id="webhooks_ping",
        summary="Send a ping event now (a successful ping re-enables a disabled webhook)",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    def post(self, request, webhook_id):
        webhook = self.webhook(request, webhook_id)
        delivery = services.webhook_ping(webhook=webhook, actor=request.user)
        delivery = selectors.webhook_deliveries(webhook=webhook).get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=http.HTTP_202_ACCEPTED)
