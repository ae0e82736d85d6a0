"""Community URLs: reviews, replies and abuse reports."""

from django.urls import path

from store.community import views

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
]
