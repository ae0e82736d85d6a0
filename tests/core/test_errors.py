"""SPEC §3 error contract: every failure, wherever it comes from, answers
``{"error": {"code", "message", "details", "request_id"}}`` with the code's status — never HTML."""

import json
import logging

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.tokens import hash_secret, new_api_key_secret

pytestmark = [pytest.mark.urls("tests.core.probe_urls"), pytest.mark.django_db]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    assert error["request_id"] == response["X-Request-ID"]
    return error


def api_key_client(user, scopes) -> APIClient:
    secret = new_api_key_secret()
    ApiKey.objects.create(
        user=user, name="probe", key_prefix=secret[:12], key_hash=hash_secret(secret), scopes=scopes
    )
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=secret)
    return client


def test_validation_error_puts_field_errors_in_details(auth_client):
    response = auth_client.post(
        "/v1/_probe/echo", {"name": "x" * 30, "count": 0, "tags": ["ok", "too-long"]}, format="json"
    )
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"name", "count", "tags.1"}
    assert all(isinstance(m, str) for messages in error["details"].values() for m in messages)
    assert error["message"].startswith(("name:", "count:", "tags.1:"))


def test_missing_required_fields_are_each_named(auth_client):
    error = assert_error(auth_client.post("/v1/_probe/echo", {}, format="json"), 400, "VALIDATION_ERROR")
    assert set(error["details"]) == {"name", "count"}


def test_valid_body_passes_through(auth_client):
    response = auth_client.post("/v1/_probe/echo", {"name": "ok", "count": 2}, format="json")
    assert response.status_code == 201
    assert response.json() == {"name": "ok", "count": 2}


def test_missing_credentials_is_401_with_www_authenticate(api_client):
    response = api_client.post("/v1/_probe/echo", {"name": "ok", "count": 1}, format="json")
    assert_error(response, 401, "UNAUTHORIZED")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    ["Bearer not-a-jwt", "Bearer mk_live_unknownkey", "Bearer md_unknowndevice", "Bearer " + "a" * 5000],
)
def test_invalid_credentials_are_401(api_client, header):
    api_client.credentials(HTTP_AUTHORIZATION=header)
    assert_error(api_client.post("/v1/_probe/echo", {}, format="json"), 401, "UNAUTHORIZED")


def test_missing_scope_is_403_naming_the_scope(user):
    client = api_key_client(user, ["apps:read"])
    error = assert_error(client.get("/v1/_probe/scoped"), 403, "FORBIDDEN")
    assert "keys:manage" in error["message"]
    assert error["details"] == {"required_scope": ["keys:manage"]}
    assert api_key_client(user, ["keys:manage"]).get("/v1/_probe/scoped").status_code == 200


def test_a_plain_django_403_page_under_v1_becomes_json(api_client):
    assert_error(api_client.get("/v1/_probe/plain-forbidden"), 403, "FORBIDDEN")


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "head", "options"])
@pytest.mark.parametrize("path", ["/v1/nope", "/v1/apps/not/a/route/", "/v1", "/v1/_probe/echo/extra"])
def test_unknown_v1_paths_answer_json_404_for_every_method(method, path):
    # A real client: CSRF checks on, no DRF test conveniences.
    client = Client(enforce_csrf_checks=True)
    if method in ("get", "head", "options"):
        response = getattr(client, method)(path)
    else:
        response = getattr(client, method)(path, data="{}", content_type="application/json")
    if method == "head":
        assert response.status_code == 404
        assert response["Content-Type"].startswith("application/json")
        return
    assert_error(response, 404, "NOT_FOUND")
    assert b"<html" not in response.content.lower()


def test_unknown_path_outside_v1_stays_html(client):
    response = client.get("/definitely-not-a-page/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


def test_drf_405_names_allowed_methods(auth_client):
    response = auth_client.get("/v1/_probe/echo")
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "POST" in response["Allow"]


def test_plain_django_405_under_v1_becomes_json_and_keeps_allow():
    response = Client(enforce_csrf_checks=True).post(
        "/v1/_probe/plain", data="{}", content_type="application/json"
    )
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response["Allow"] == "GET"


def test_body_over_data_upload_max_memory_size_is_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"blob": "x" * 2000})
    response = api_client.post("/v1/_probe/public", body, content_type="application/json")
    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert "1000" in error["message"]
    small = api_client.post("/v1/_probe/public", {"blob": "x" * 10}, format="json")
    assert small.status_code == 200


def test_request_data_too_big_from_request_body_is_413(auth_client, settings):
    # The idempotency decorator reads request.body, where Django itself raises RequestDataTooBig.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = auth_client.post(
        "/v1/_probe/create", {"name": "x" * 2000}, format="json", HTTP_IDEMPOTENCY_KEY="big"
    )
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_malformed_json_is_400(api_client):
    response = api_client.post("/v1/_probe/public", '{"name": ', content_type="application/json")
    error = assert_error(response, 400, "VALIDATION_ERROR")
    assert "JSON parse error" in error["message"]


def test_unsupported_content_type_is_415(api_client):
    response = api_client.post(
        "/v1/_probe/public", "name=x", content_type="application/x-www-form-urlencoded"
    )
    error = assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert "application/x-www-form-urlencoded" in error["message"]


def test_conflict_is_409_with_details(api_client):
    error = assert_error(api_client.post("/v1/_probe/conflict", {}, format="json"), 409, "CONFLICT")
    assert error["details"] == {"status": ["review"]}


def test_unhandled_exception_is_500_without_traceback_and_is_logged_with_request_id(api_client, caplog):
    with caplog.at_level(logging.ERROR, logger="mosis.request"):
        response = api_client.get("/v1/_probe/boom", HTTP_X_REQUEST_ID="req-boom-1")
    error = assert_error(response, 500, "INTERNAL_ERROR")
    assert error["request_id"] == "req-boom-1"
    content = response.content.decode()
    assert "hunter2" not in content and "Traceback" not in content and "RuntimeError" not in content
    records = [r for r in caplog.records if r.name == "mosis.request" and r.levelno == logging.ERROR]
    assert len(records) == 1
    assert records[0].request_id == "req-boom-1"
    assert records[0].exc_info and records[0].exc_info[0] is RuntimeError


def test_unhandled_exception_is_500_json_even_in_debug(api_client, settings):
    settings.DEBUG = True
    response = api_client.get("/v1/_probe/boom")
    assert_error(response, 500, "INTERNAL_ERROR")
    assert "hunter2" not in response.content.decode()


def test_service_unavailable_is_503(api_client):
    error = assert_error(api_client.get("/v1/_probe/unavailable"), 503, "SERVICE_UNAVAILABLE")
    assert error["message"] == "Storage is unreachable."


def test_handler500_renders_the_json_body(rf):
    from mosis.core.errors import handler500

    response = handler500(rf.get("/v1/anything"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "INTERNAL_ERROR"


def test_every_code_has_a_status_and_a_default_message():
    from mosis.core.errors import DEFAULT_MESSAGES, STATUS_BY_CODE, ApplicationError, ErrorCode

    codes = {v for k, v in vars(ErrorCode).items() if not k.startswith("_")}
    assert codes == set(STATUS_BY_CODE) == set(DEFAULT_MESSAGES)
    assert ApplicationError(ErrorCode.CONFLICT).status == 409
    assert ApplicationError(ErrorCode.CONFLICT).message == "Conflict."


def test_csrf_failure_under_v1_is_json_403(rf):
    from mosis.core.views import csrf_failure

    response = csrf_failure(rf.post("/v1/apps"), reason="CSRF token missing.")
    assert response.status_code == 403
    body = json.loads(response.content)
    assert body["error"]["code"] == "FORBIDDEN"
    assert "CSRF token missing" in body["error"]["message"]
    html = csrf_failure(rf.post("/accounts/login/"), reason="CSRF token missing.")
    assert html.status_code == 403 and not html["Content-Type"].startswith("application/json")
