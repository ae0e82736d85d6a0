"""Shared fixtures: API clients for each credential kind, and the network kept to 127.0.0.1."""

import shutil
import socket

import pytest
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _block_external_network(monkeypatch):
    """Tests only ever talk to 127.0.0.1 (SPEC/README: no internet)."""
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "localhost", "::1")
            and not host.startswith("/")
        ):
            raise RuntimeError(f"test tried to reach {host}: only 127.0.0.1 is allowed")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)


@pytest.fixture(scope="session", autouse=True)
def _remove_the_file_cache_folder():
    """Without Redis the test settings give each test process its own file-cache folder in /tmp."""
    yield
    cache_settings = settings.CACHES["default"]
    if cache_settings["BACKEND"].endswith("FileBasedCache"):
        shutil.rmtree(cache_settings["LOCATION"], ignore_errors=True)


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    if settings.STORAGE_BACKEND != "s3":
        settings.MEDIA_ROOT = str(tmp_path / "media")
        settings.STORAGES = {
            **settings.STORAGES,
            "packages": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(tmp_path / "media" / "packages")},
            },
        }
        yield
    else:
        yield


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True, is_superuser=True)


def jwt_client_for(user) -> APIClient:
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.fixture
def auth_client(user):
    """A developer authenticated with a JWT access token, as a CLI would be."""
    return jwt_client_for(user)


@pytest.fixture
def other_client(other_user):
    return jwt_client_for(other_user)


@pytest.fixture
def staff_client(staff_user):
    return jwt_client_for(staff_user)


@pytest.fixture
def no_ratelimits(settings):
    settings.RATE_LIMITS_ENABLED = False


requires_postgres = pytest.mark.skipif(
    not settings.IS_POSTGRES, reason="needs PostgreSQL (set DATABASE_URL=postgres://...)"
)
