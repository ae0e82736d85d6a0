from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AppViewSet, EventListView
from .webhooks.views import WebhookDeliveriesView, WebhookDetailView, WebhookListCreateView, WebhookPingView

router = SimpleRouter(trailing_slash=False)
router.register("apps", AppViewSet, basename="app")

urlpatterns = [
    path("events", EventListView.as_view(), name="event-list"),
    path("webhooks", WebhookListCreateView.as_view(), name="webhook-list"),
    path("webhooks/<uuid:webhook_id>", WebhookDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<uuid:webhook_id>/deliveries", WebhookDeliveriesView.as_view(), name="webhook-deliveries"),
    path("webhooks/<uuid:webhook_id>/ping", WebhookPingView.as_view(), name="webhook-ping"),
    *router.urls,
]
