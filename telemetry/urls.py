from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import AppAnalyticsView, AppCrashViewSet, TelemetryViewSet

router = SimpleRouter(trailing_slash=False)
router.register("telemetry", TelemetryViewSet, basename="telemetry")  # telemetry/events, telemetry/crash

urlpatterns = [
    path("apps/<uuid:app_id>/analytics", AppAnalyticsView.as_view(), name="app-analytics"),
    path("apps/<uuid:app_id>/crashes", AppCrashViewSet.as_view({"get": "list"}), name="app-crashes"),
    path(
        "apps/<uuid:app_id>/crashes/<uuid:crash_id>",
        AppCrashViewSet.as_view({"get": "retrieve"}),
        name="app-crash-detail",
    ),
    *router.urls,
]
