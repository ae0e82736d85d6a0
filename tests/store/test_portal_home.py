"""The server-rendered store front reads through the same selectors as the API."""

import pytest

from store.catalog.services.listing import listing_refresh
from tests.factories import AppFactory
from tests.store.conftest import make_published_app


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://store.test"


@pytest.mark.django_db
def test_home_lists_only_listed_apps_and_searches(client):
    shown = make_published_app(package_id="com.example.notes", name="Notes")
    hidden = AppFactory(package_id="com.example.draft", name="Draft Thing")
    listing_refresh(app_id=hidden.id)

    page = client.get("/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-package-id="com.example.notes"' in html
    assert "com.example.draft" not in html

    found = client.get("/", {"q": "Notes"}).content.decode()
    assert shown.package_id in found
    missing = client.get("/", {"q": "zzzz-nothing"}).content.decode()
    assert "No apps match." in missing


@pytest.mark.django_db
def test_home_query_count_does_not_grow_with_apps(client, django_assert_max_num_queries):
    for i in range(30):
        make_published_app(package_id=f"com.example.app{i}", name=f"App {i}")
    with django_assert_max_num_queries(6):
        assert client.get("/").status_code == 200


@pytest.mark.django_db
def test_home_shows_each_apps_store_icon(client):
    from mosis.core import storage
    from store.catalog.links import packaged_icon_url
    from tests.store.conftest import make_version

    packaged = make_published_app(versions=0, package_id="com.example.packaged")
    key = f"apps/{packaged.pk}/1-icon.png"
    storage.put_bytes(key, b"\x89PNG")
    make_version(packaged, code=1, icon_key=key)
    listing_refresh(app_id=packaged.pk)
    own = make_published_app(package_id="com.example.own", icon_url="https://cdn.test/own.png")

    html = client.get("/").content.decode()
    assert f'src="{packaged_icon_url(package_id=packaged.package_id, version_code=1)}"' in html
    assert 'src="https://cdn.test/own.png"' in html
    assert own.package_id in html
