from django.urls import path

from . import views

version = "apps/<uuid:app_id>/versions/<uuid:version_id>"

urlpatterns = [
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
