from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views
from .views_apps import AppViewSet

# /v1/apps: an App is answered with its latest published version (versions.views_apps).
router = SimpleRouter(trailing_slash=False)
router.register("apps", AppViewSet, basename="app")

versions = views.VersionViewSet
version = "apps/<uuid:app_id>/versions/<uuid:version_id>"

urlpatterns = [
    *router.urls,
    path("apps/<uuid:app_id>/versions", versions.as_view({"get": "list", "post": "create"}), name="versions"),
    path(version, versions.as_view({"get": "retrieve", "delete": "destroy"}), name="version-detail"),
    path(
        f"{version}/upload-complete",
        versions.as_view({"put": "upload_complete"}),
        name="version-upload-complete",
    ),
    path(f"{version}/upload-url", versions.as_view({"post": "upload_url"}), name="version-upload-url"),
    path(f"{version}/submit", versions.as_view({"post": "submit"}), name="version-submit"),
    path(f"{version}/publish", versions.as_view({"post": "publish"}), name="version-publish"),
    path(f"{version}/yank", versions.as_view({"post": "yank"}), name="version-yank"),
    path("uploads/<str:token>", views.LocalUploadView.as_view(), name="local-upload"),
]
