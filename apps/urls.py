from django.urls import path

from .views import EventListView
from .webhooks.views import WebhookViewSet

webhook = "webhooks/<uuid:webhook_id>"

urlpatterns = [
    path("events", EventListView.as_view(), name="event-list"),
    path("webhooks", WebhookViewSet.as_view({"get": "list", "post": "create"}), name="webhook-list"),
    path(webhook, WebhookViewSet.as_view({"get": "retrieve", "delete": "destroy"}), name="webhook-detail"),
    path(f"{webhook}/deliveries", WebhookViewSet.as_view({"get": "deliveries"}), name="webhook-deliveries"),
    path(f"{webhook}/ping", WebhookViewSet.as_view({"post": "ping"}), name="webhook-ping"),
]
