from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views
from .views_apps import AppViewSet

# /v1/apps: an App is answered with its latest published version (versions.views_apps).
router = SimpleRouter(trailing_slash=False)
router.register("apps", AppViewSet, basename="app")

version = "apps/<uuid:app_id>/versions/<uuid:version_id>"

urlpatterns = [
    *router.urls,
    path("apps/<uuid:app_id>/versions", views.VersionListCreateView.as_view(), name="versions"),
    path(version, views.VersionDetailView.as_view(), name="version-detail"),
    path(
        f"{version}/upload-complete",
        views.VersionUploadCompleteView.as_view(),
        name="version-upload-complete",
    ),
    path(f"{version}/upload-url", views.VersionUploadUrlView.as_view(), name="version-upload-url"),
    path(f"{version}/submit", views.VersionSubmitView.as_view(), name="version-submit"),
    path(f"{version}/publish", views.VersionPublishView.as_view(), name="version-publish"),
    path(f"{version}/yank", views.VersionYankView.as_view(), name="version-yank"),
    path("uploads/<str:token>", views.LocalUploadView.as_view(), name="local-upload"),
]
