"""Root URLs: each Django app owns its own ``urls.py`` under ``/v1``; the admin is the review console."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView

from mosis.core.views import HealthView, bench_floor, unknown_api_path

api_v1 = [
    path("health", HealthView.as_view(), name="health"),
    path(
        "openapi.json",
        SpectacularJSONAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="openapi",
    ),
    # The split view serves Swagger UI's start-up script as a file: the page needs no inline script (CSP).
    path("docs", SpectacularSwaggerSplitView.as_view(url_name="openapi"), name="swagger-ui"),
    path("", include("accounts.urls")),
    path("", include("apps.urls")),
    path("", include("versions.urls")),
    path("", include("store.urls")),
    path("", include("telemetry.urls")),
]
if settings.BENCH_ENDPOINTS:  # the framework floor of bench/load.py; never routed unless asked for
    api_v1.append(path("_bench/floor", bench_floor, name="bench-floor"))

urlpatterns = [
    path("v1/", include(api_v1)),
    re_path(r"^v1(/.*)?$", unknown_api_path),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("portal/", include("portal.urls")),
    path("", include("django_prometheus.urls")),
    path("", include("store.pages.urls")),
]

handler404 = "mosis.core.errors.handler404"
handler500 = "mosis.core.errors.handler500"
