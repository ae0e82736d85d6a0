"""The server-rendered store front reads through the same selectors as the API."""

import pytest

from store.services.listing import listing_refresh
from tests.factories import AppFactory
from tests.store.conftest import make_published_app


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
