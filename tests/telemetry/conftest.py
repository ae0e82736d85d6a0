"""Telemetry fixtures: a developer's app, a device client, API-key clients with chosen scopes."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create
from tests.factories import AppFactory, community_device


@pytest.fixture
def app(user):
    return AppFactory(owner=user, package_id="com.example.tracked")


@pytest.fixture
def device_client(db):
    device, token = community_device()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.device = device
    return client


@pytest.fixture
def key_client(user):
    """``key_client(scopes)``: an APIClient with an API key of ``user`` holding exactly ``scopes``."""

    def make(*scopes):
        _key, secret = api_key_create(user=user, name="ci", scopes=list(scopes))
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=secret)
        return client

    return make


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def now_utc() -> dt.datetime:
    return timezone.now().astimezone(dt.UTC)


def event(app_id, event_type="app.open", **extra) -> dict:
    return {"app_id": str(app_id), "event_type": event_type, **extra}
