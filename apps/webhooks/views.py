"""``/v1/webhooks``: thin views over ``apps.webhooks.services`` and ``apps.webhooks.selectors``.

A developer's credential only (a device token is a 401); reads need ``apps:read``, writes ``apps:write``.
Another developer's webhook id answers 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework import status as http
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from accounts.constants import Scope
from accounts.permissions import HasScope, IsDeveloper
from mosis.core.idempotency import idempotent
from mosis.core.pagination import PaginatedListMixin

from ..models import Webhook
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


class WebhookViewSet(PaginatedListMixin, mixins.ListModelMixin, GenericViewSet):
    permission_classes = [IsDeveloper, HasScope]
    required_scopes = SCOPES
    queryset = Webhook.objects.none()  # the model, for the schema; reads go through selectors
    serializer_class = WebhookSerializer
    lookup_url_kwarg = "webhook_id"

    @property
    def items_key(self) -> str:  # the list key of the paginated answers (read by the schema too)
        return "deliveries" if getattr(self, "action", None) == "deliveries" else "webhooks"

    def get_queryset(self):
        return selectors.webhooks_for_owner(owner=self.request.user)

    def webhook(self):
        return webhook_for_owner(user=self.request.user, webhook_id=self.kwargs["webhook_id"])

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_list",
        summary="The caller's webhooks, newest first",
        responses={200: WebhookSerializer(many=True)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_create",
        summary="Register a webhook for events of the caller's apps (the secret is shown only here)",
        request=WebhookCreateSerializer,
        responses={201: WebhookCreatedSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    @idempotent
    def create(self, request):
        data = WebhookCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        webhook, secret = services.webhook_create(owner=request.user, **data.validated_data)
        body = {**WebhookSerializer(webhook).data, "secret": secret}
        return Response(body, status=http.HTTP_201_CREATED)

    @extend_schema(
        tags=TAG, operation_id="webhooks_retrieve", summary="A webhook", responses={200: WebhookSerializer}
    )
    def retrieve(self, request, webhook_id):
        return Response(WebhookSerializer(self.webhook()).data)

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_delete",
        summary="Delete a webhook and its delivery log",
        responses={200: DeleteResultSerializer},
    )
    def destroy(self, request, webhook_id):
        services.webhook_delete(webhook=self.webhook(), actor=request.user)
        return Response({"success": True})

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_deliveries",
        summary="A webhook's deliveries, newest first, each with every attempt",
        responses={200: WebhookDeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, webhook_id):
        page = self.paginate_queryset(selectors.webhook_deliveries(webhook=self.webhook()))
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="webhooks_ping",
        summary="Send a ping event now (a successful ping re-enables a disabled webhook)",
        request=None,
        responses={202: WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def ping(self, request, webhook_id):
        webhook = self.webhook()
        delivery = services.webhook_ping(webhook=webhook, actor=request.user)
        delivery = selectors.webhook_deliveries(webhook=webhook).get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=http.HTTP_202_ACCEPTED)
