"""Portal test helpers: a signed-in browser session, apps made through the services, versions in any state."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.services import app_create
from tests.factories import AppVersionFactory, CategoryFactory, UserFactory
from versions.constants import VersionStatus


@pytest.fixture
def browser(user) -> Client:
    """The developer ``user`` signed in through a session, as the portal's pages see them."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def other_browser(db) -> Client:
    client = Client()
    client.force_login(UserFactory())
    return client


@pytest.fixture
def category(db):
    return CategoryFactory(slug="tools", name="Tools")


def make_app(owner, package_id="com.example.portal", **fields):
    return app_create(owner=owner, package_id=package_id, name=fields.pop("name", "Portal App"), **fields)


def make_version(app, status=VersionStatus.DRAFT, **fields):
    return AppVersionFactory(app=app, status=status, **fields)


@pytest.fixture
def app(user):
    return make_app(user)
