"""Schemathesis against the live schema (SPEC §3, issue 2 item 6).

Every operation of ``/v1/openapi.json`` is called with generated data through the real WSGI application,
authenticated as a developer who owns some data (JWT) or, for device endpoints, with a device token. A test
fails on any 5xx, on any response whose status, content type, headers or body the schema does not
document, on a request the schema allows that is refused or one it forbids that is accepted (``--checks
all``: positive and negative data, auth, unsupported methods, missing headers, use after delete). It grows by itself: a new endpoint is in the schema, so it is fuzzed here.

Bounded and deterministic: a few examples per operation, derandomized, no deadline, rate limits off (a 429
would only hide the endpoint), the network kept to 127.0.0.1 (OAuth providers point at a closed local port).
"""

import socket
from pathlib import Path

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import AppFactory, UserFactory, community_device, community_published_app

MAX_EXAMPLES = 12
# Operations a device calls with its md_ token; everything else is called as the developer.
DEVICE_PREFIXES = ("/v1/devices/me", "/v1/telemetry/")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """The real WSGI handler closes "old" connections around each request; inside a test's transaction on
    PostgreSQL that would close it. Django's own test client detaches the same receivers."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def _fuzz_settings(settings):
    settings.RATE_LIMITS_ENABLED = False
    dead = f"http://127.0.0.1:{_closed_port()}"
    settings.OAUTH_ENDPOINTS = {
        provider: {name: f"{dead}/{provider}/{name}" for name in urls}
        for provider, urls in settings.OAUTH_ENDPOINTS.items()
    }
    # Both providers configured, as on a store that offers them: an unconfigured one answers 503 by design
    # (tests/accounts/test_oauth.py), which would only hide the endpoints.
    settings.SOCIALACCOUNT_PROVIDERS = {
        name: {**conf, "APP": {"client_id": f"fuzz-{name}", "secret": "fuzz-secret"}}
        for name, conf in settings.SOCIALACCOUNT_PROVIDERS.items()
    }
    settings.OAUTH_HTTP_TIMEOUT = 2.0


@pytest.fixture
def credentials(db):
    developer = UserFactory(email="fuzz@example.com")
    community_published_app("com.example.fuzz", owner=developer, versions=("1.0.0", "1.1.0"))
    AppFactory(owner=developer, package_id="com.example.fuzzdraft")
    _device, device_token = community_device()
    jwt = RefreshToken.for_user(developer).access_token
    return {"developer": f"Bearer {jwt}", "device": f"Bearer {device_token}"}


# Loaded at collection through the WSGI app (no database needed): one test per operation. Every check runs;
# schemathesis.toml lists the few business rules the schema cannot state.
CONFIG = schemathesis.Config.from_path(Path(__file__).resolve().parents[1] / "schemathesis.toml")
schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", get_wsgi_application(), config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_matches_its_schema_and_never_fails(case, credentials):
    device = case.path.startswith(DEVICE_PREFIXES)
    # identity: the WSGI test transport does not undo Content-Encoding the way HTTP clients do (the catalog
    # is gzipped when asked; its own tests cover that path).
    headers = {
        "Authorization": credentials["device" if device else "developer"],
        "Accept-Encoding": "identity",
    }
    case.call_and_validate(headers=headers)
