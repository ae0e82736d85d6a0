"""Catalog side of the public store: browse, search, listing, versions, downloads, catalog document."""

from django.urls import path

from mosis.core.fastpath import fast_view

from . import views_catalog as views

urlpatterns = [
    path("store/apps", views.StoreAppListView.as_view(), name="store-apps"),
    path("store/categories", views.StoreCategoryListView.as_view(), name="store-categories"),
    path("store/catalog", fast_view(views.CatalogView, views.catalog_response), name="store-catalog"),
    path("store/apps/<str:package_id>", views.StoreAppDetailView.as_view(), name="store-app"),
    path(
        "store/apps/<str:package_id>/versions",
        views.StoreAppVersionsView.as_view(),
        name="store-app-versions",
    ),
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
    path("cache/stats", views.CacheStatsView.as_view(), name="cache-stats"),
    path("files/<str:token>", views.local_download, name="local-download"),
]
