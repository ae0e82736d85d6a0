"""Download URLs: the latest or one version's download answer, and the local file download."""

from django.urls import path

from mosis.core.fastpath import fast_view
from store.downloads import views

urlpatterns = [
    path(
        "store/apps/<str:package_id>/download",
        fast_view(views.StoreLatestDownloadView, views.download_response),
        name="store-app-download",
    ),
    path(
        "store/apps/<str:package_id>/versions/<int:version_code>/download",
        fast_view(views.StoreVersionDownloadView, views.download_response),
        name="store-version-download",
    ),
    path("files/<str:token>", views.local_download, name="local-download"),
]
