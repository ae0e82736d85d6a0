"""Catalog side of the public store: browse, search, listing, versions, icons, catalog document, cache stats."""

from django.urls import path

from mosis.core.fastpath import fast_view
from store.catalog import views

urlpatterns = [
    path("store/apps", fast_view(views.StoreAppListView, views.store_apps_answer), name="store-apps"),
    path(
        "store/categories",
        fast_view(views.StoreCategoryListView, views.store_categories_answer),
        name="store-categories",
    ),
    path("store/catalog", fast_view(views.CatalogView, views.catalog_answer), name="store-catalog"),
    path(
        "store/apps/<str:package_id>",
        fast_view(views.StoreAppDetailView, views.listing_answer),
        name="store-app",
    ),
    path(
        "store/apps/<str:package_id>/versions",
        fast_view(views.StoreAppVersionsView, views.store_versions_answer),
        name="store-app-versions",
    ),
    path(
        "store/apps/<str:package_id>/versions/<int:version_code>",
        views.StoreAppVersionDetailView.as_view(),
        name="store-app-version",
    ),
    path(
        "store/apps/<str:package_id>/versions/<int:version_code>/icon",
        views.StoreVersionIconView.as_view(),
        name="store-version-icon",
    ),
    path("cache/stats", views.CacheStatsView.as_view(), name="cache-stats"),
]
