"""Community and device URLs: reviews, replies, abuse reports, the installed set, updates and plans."""

from django.urls import path

from . import views_community as views

urlpatterns = [
    path(
        "store/apps/<str:package_id>/reviews",
        views.ReviewListCreateView.as_view(),
        name="store-app-reviews",
    ),
    path(
        "store/apps/<str:package_id>/reviews/<uuid:review_id>/reply",
        views.ReviewReplyView.as_view(),
        name="store-app-review-reply",
    ),
    path("store/apps/<str:package_id>/report", views.AbuseReportView.as_view(), name="store-app-report"),
    path("devices/me/apps", views.DeviceAppsView.as_view(), name="device-apps"),
    path("devices/me/updates", views.DeviceUpdatesView.as_view(), name="device-updates"),
    path("devices/me/plan", views.DevicePlanView.as_view(), name="device-plan"),
    path(
        "devices/me/store/apps/<str:package_id>", views.DeviceAppStoreView.as_view(), name="device-store-app"
    ),
]
