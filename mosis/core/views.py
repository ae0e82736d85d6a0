"""Operations endpoints: health (seed 004) and the unknown-/v1-path catch-all."""

import json
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import storage
from .errors import ErrorCode, error_json_response

STARTED_AT = time.monotonic()


def _check(fn) -> dict:
    try:
        fn()
        return {"enabled": True, "healthy": True, "error": None}
    except Exception as exc:  # noqa: BLE001 - health reports any failure
        return {"enabled": True, "healthy": False, "error": str(exc)[:200]}


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache():
    cache.set("health:ping", "1", 10)
    if cache.get("health:ping") != "1":
        raise RuntimeError("cache did not return what was written")


def _broker():
    from mosis.celery import app

    if app.conf.broker_url.startswith("memory://"):
        return  # embedded mode: tasks run in-process
    with app.connection_for_write(url=app.conf.broker_url) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


BackendStatus = inline_serializer(
    name="BackendStatus",
    fields={
        "enabled": serializers.BooleanField(),
        "healthy": serializers.BooleanField(),
        "error": serializers.CharField(allow_null=True),
    },
)
HealthSerializer = inline_serializer(
    name="Health",
    fields={
        "status": serializers.ChoiceField(choices=["healthy", "degraded", "unhealthy"]),
        "version": serializers.CharField(),
        "uptime": serializers.IntegerField(),
        "backends": inline_serializer(
            name="HealthBackends",
            fields={
                "database": BackendStatus,
                "cache": BackendStatus,
                "broker": BackendStatus,
                "storage": BackendStatus,
            },
        ),
    },
)


class HealthView(APIView):
    """Backend status: ``degraded`` when a non-critical backend fails, 503 when the database is down."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []
    schema_public = True

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer}, tags=["operations"])
    def get(self, request):
        backends = {
            "database": _check(_database),
            "cache": _check(_cache),
            "broker": _check(_broker),
            "storage": storage.check_health(),
        }
        healthy = all(b["healthy"] for b in backends.values())
        status = (
            "healthy" if healthy else ("unhealthy" if not backends["database"]["healthy"] else "degraded")
        )
        body = {
            "status": status,
            "version": settings.MOSIS_VERSION,
            "uptime": int(time.monotonic() - STARTED_AT),
            "backends": backends,
        }
        return Response(body, status=503 if status == "unhealthy" else 200)


@csrf_exempt  # any method answers the JSON 404, not Django's HTML CSRF page
def unknown_api_path(request, *args, **kwargs):
    """Any /v1 path no route matched: the JSON 404 of SPEC §3, never an HTML page."""
    return error_json_response(ErrorCode.NOT_FOUND, f"No API endpoint at {request.path}.")


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: the JSON 403 under /v1 (a browser session without a token), Django's page elsewhere."""
    if request.path == "/v1" or request.path.startswith("/v1/"):
        return error_json_response(ErrorCode.FORBIDDEN, f"CSRF check failed: {reason}")
    from django.views.csrf import csrf_failure as django_csrf_failure

    return django_csrf_failure(request, reason=reason)


# A fixed 2 KB (2048-byte) JSON body, encoded once: the floor measures the framework (middleware,
# routing, response), not serialization or the database.
def _bench_floor_body(size: int = 2048) -> bytes:
    apps = [
        {"package_id": f"com.bench.app{i:02d}", "name": f"Bench app {i:02d}", "version_code": i}
        for i in range(20)
    ]
    body = {"apps": apps, "padding": ""}
    body["padding"] = "x" * (size - len(json.dumps(body, separators=(",", ":"))))
    return json.dumps(body, separators=(",", ":")).encode()


_BENCH_FLOOR_BODY = _bench_floor_body()


def bench_floor(request):
    """``GET /v1/_bench/floor``: the framework floor for bench/load.py (routed only when BENCH_ENDPOINTS).

    A plain Django view through the full middleware stack, with no database, authentication or throttling,
    so store endpoints can be compared with the cheapest response this server can give.
    """
    return HttpResponse(_BENCH_FLOOR_BODY, content_type="application/json")
