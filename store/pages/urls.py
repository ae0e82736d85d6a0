"""The public store's pages: browse/search, categories, an app's listing, a developer's apps."""

from django.urls import path

from store.pages.views import store_app, store_category, store_developer, store_home

urlpatterns = [
    path("", store_home, name="store-home"),
    path("categories/<slug:slug>/", store_category, name="store-page-category"),
    path("apps/<str:package_id>/", store_app, name="store-page-app"),
    path("developers/<uuid:user_id>/", store_developer, name="store-page-developer"),
]
