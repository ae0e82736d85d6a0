"""Production sends HSTS and redirects plain HTTP to HTTPS; health probes and scrapes stay on HTTP
(issue 19, seed 001)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def _production_settings(**env) -> dict:
    code = (
        "import json, mosis.settings.production as s; print(json.dumps({k: getattr(s, k) for k in "
        "('SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', 'SECURE_PROXY_SSL_HEADER', 'SECURE_REDIRECT_EXEMPT')}))"
    )
    environ = {**os.environ, "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "store.example.com", **env}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_production_redirects_to_https_and_sends_hsts_by_default():
    values = _production_settings()
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31536000
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_the_embedded_mode_stays_on_plain_http(settings):
    assert settings.SECURE_SSL_REDIRECT is False and settings.SECURE_HSTS_SECONDS == 0


@pytest.fixture
def https_only(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_REDIRECT_EXEMPT = [r"^v1/health$", r"^metrics$"]


def test_plain_http_is_redirected_and_https_behind_a_proxy_gets_hsts(client, https_only):
    plain = client.get("/v1/store/categories")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/v1/store/categories"
    proxied = client.get("/v1/store/categories", HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == "max-age=31536000"


def test_health_probes_stay_on_plain_http(client, https_only):
    assert client.get("/v1/health").status_code == 200
