"""Seed 004 operations endpoints: /v1/health with real backend failures, /metrics, the OpenAPI schema."""

import socket

import psycopg
import pytest
from django.db import OperationalError

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound then released, so connecting is refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_health_is_healthy_with_every_backend_up(api_client):
    response = api_client.get("/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert set(body) == {"status", "version", "uptime", "backends"}
    assert set(body["backends"]) == {"database", "cache", "broker", "storage"}
    for backend in body["backends"].values():
        assert backend == {"enabled": True, "healthy": True, "error": None}
    assert isinstance(body["uptime"], int) and body["version"]


def test_health_is_degraded_when_the_broker_is_unreachable(api_client, monkeypatch):
    from mosis.celery import app

    dead_broker = f"redis://127.0.0.1:{closed_port()}/0"
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration: point both at it.
    # The configuration first: its old value is read while the environment still holds the real URL (in the
    # other order the dead URL was "restored" into the configuration and leaked into later tests).
    monkeypatch.setattr(app.conf, "broker_url", dead_broker)
    monkeypatch.setenv("CELERY_BROKER_URL", dead_broker)
    response = api_client.get("/v1/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["backends"]["broker"]["healthy"] is False
    assert body["backends"]["broker"]["error"]
    assert body["backends"]["database"]["healthy"] is True


def test_health_is_degraded_when_storage_is_not_writable(api_client, settings, tmp_path):

    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the package directory should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "packages": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker / "packages")},
        },
    }
    if settings.STORAGE_BACKEND == "s3":
        pytest.skip("local storage check")
    body = api_client.get("/v1/health").json()
    assert body["status"] == "degraded"
    assert body["backends"]["storage"]["healthy"] is False
    assert "not-a-directory" in body["backends"]["storage"]["error"]


def test_health_is_503_when_the_database_is_down(api_client, monkeypatch):
    port = closed_port()

    def unreachable_database():
        # The real error a dead PostgreSQL gives: connection refused, wrapped as Django's OperationalError.
        try:
            psycopg.connect(host="127.0.0.1", port=port, dbname="mosis", connect_timeout=2).close()
        except psycopg.OperationalError as exc:
            raise OperationalError(str(exc)) from exc

    monkeypatch.setattr("mosis.core.views._database", unreachable_database)
    response = api_client.get("/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["backends"]["database"]["healthy"] is False
    assert str(port) in body["backends"]["database"]["error"]


def test_health_is_degraded_when_the_cache_fails(api_client, monkeypatch):
    from django.core.cache import cache

    def broken_set(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(cache, "set", broken_set)
    body = api_client.get("/v1/health").json()
    assert body["status"] == "degraded"
    assert body["backends"]["cache"]["healthy"] is False


def test_metrics_answers_prometheus_text(client):
    client.get("/v1/health")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "# TYPE django_http_requests_total_by_method_total counter" in text
    assert "django_http_responses_total_by_status_total" in text


def test_openapi_schema_is_valid_openapi_3(client):
    from openapi_spec_validator import validate

    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate(schema)
    assert "/v1/health" in schema["paths"]
    assert "Error" in schema["components"]["schemas"]


def test_every_operation_documents_its_error_responses(client):
    schema = client.get("/v1/openapi.json").json()
    missing = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            errors = [code for code in operation["responses"] if code.startswith(("4", "5"))]
            for required in ("400", "404", "429", "500"):
                if required not in errors:
                    missing.append(f"{method.upper()} {path}: {required}")
            if method in ("post", "put", "patch") and "413" not in errors:
                missing.append(f"{method.upper()} {path}: 413")
            for code in errors:
                content = operation["responses"][code].get("content", {}).get("application/json", {})
                if path != "/v1/health":
                    assert content.get("schema") == {"$ref": "#/components/schemas/Error"}, (
                        path,
                        method,
                        code,
                    )
    assert not missing, missing


def test_swagger_ui_renders(client):
    response = client.get("/v1/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    # The start-up script is a file of its own (no inline script under the CSP); it loads the schema.
    assert b'<script src="/v1/docs?script=">' in response.content
    assert b"/v1/openapi.json" in client.get("/v1/docs", {"script": ""}).content


def test_the_schema_command_validates_without_warnings(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    assert out.read_text().startswith("openapi: 3")
