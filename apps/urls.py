from django.urls import path

from .views import EventListView
from .webhooks.views import WebhookDeliveriesView, WebhookDetailView, WebhookListCreateView, WebhookPingView

urlpatterns = [
    path("events", EventListView.as_view(), name="event-list"),
    path("webhooks", WebhookListCreateView.as_view(), name="webhook-list"),
    path("webhooks/<uuid:webhook_id>", WebhookDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<uuid:webhook_id>/deliveries", WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    path("webhooks/<uuid:webhook_id>/ping", WebhookPingView.as_view(), name="webhook-ping"),
]
