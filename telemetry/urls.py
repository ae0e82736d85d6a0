from django.urls import path

from .views import (
    AppAnalyticsView,
    AppCrashDetailView,
    AppCrashListView,
    CrashReportView,
    TelemetryEventsView,
)

urlpatterns = [
    path("telemetry/events", TelemetryEventsView.as_view(), name="telemetry-events"),
    path("telemetry/crash", CrashReportView.as_view(), name="telemetry-crash"),
    path("apps/<uuid:app_id>/analytics", AppAnalyticsView.as_view(), name="app-analytics"),
    path("apps/<uuid:app_id>/crashes", AppCrashListView.as_view(), name="app-crashes"),
    path("apps/<uuid:app_id>/crashes/<uuid:crash_id>", AppCrashDetailView.as_view(), name="app-crash-detail"),
]
