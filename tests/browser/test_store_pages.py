"""The public store in a real browser: browse, search from the keyboard, a category, an app's page with its
screenshots, ratings and changelog, a developer's page — at desktop and phone width, icons loading from the
host the test server happens to run on."""

from __future__ import annotations

import re

import pytest

from apps.constants import AppStatus
from mosis.core import storage
from mosis_package import make_icon_png
from store.catalog.services.listing import listing_refresh, listing_refresh_ratings
from store.community.services.reviews import review_reply_set, review_upsert
from tests.browser.portal_helpers import needs_chromium
from tests.factories import AppFactory, CategoryFactory, UserFactory
from tests.store.conftest import make_version

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

APPS = [
    ("com.example.notes", "Field Notes", "productivity", "Notes that work offline, with tags and search."),
    ("com.example.tasks", "Task Board", "productivity", "Kanban boards for small teams."),
    ("com.example.chess", "Chess Club", "games", "Play chess against friends or the computer."),
    ("com.example.weather", "Weather Now", "tools", "Forecasts for the next ten days."),
    ("com.example.timer", "Focus Timer", "tools", "Pomodoro timer with statistics."),
]


@pytest.fixture
def catalog(live_server):
    developer = UserFactory(name="Ada Lovelace")
    categories = {
        slug: CategoryFactory(slug=slug, name=slug.title()) for slug in ("productivity", "games", "tools")
    }
    apps = {}
    for index, (package_id, name, category, description) in enumerate(APPS):
        app = AppFactory(
            owner=developer,
            status=AppStatus.PUBLISHED,
            package_id=package_id,
            name=name,
            category=categories[category],
            description=description,
            long_description=f"## About {name}\n\n{description}\n\n* Works offline\n* No ads",
        )
        key = f"apps/{app.pk}/icon.png"
        storage.put_bytes(key, make_icon_png(128 + index * 16))
        make_version(app, code=1, name="1.0.0", icon_key=key, release_notes="First release.")
        make_version(
            app,
            code=2,
            name="1.1.0",
            icon_key=key,
            release_notes="Faster start-up.\nNew settings page.",
            permissions=["network", "notifications"],
            languages=["en", "pt-BR"],
            min_mosis="1.2",
        )
        apps[package_id] = app
    # The notes app shows the others' icons as its screenshots (served by this test server).
    notes = apps["com.example.notes"]
    notes.screenshots = [
        f"{live_server.url}/v1/store/apps/{package_id}/versions/2/icon" for package_id, *_ in APPS[1:]
    ]
    notes.save(update_fields=["screenshots"])
    for index, (rating, title) in enumerate(
        [(5, "Exactly what I needed"), (4, "Good"), (2, "Crashes on sync")]
    ):
        review, _ = review_upsert(
            app=notes, user=UserFactory(name=f"Reviewer {index}"), rating=rating, title=title, body="Details."
        )
    review_reply_set(review=review, author=developer, body="Fixed in 1.1.0, thanks for the report.")
    for app in apps.values():
        listing_refresh(app_id=app.pk)
        listing_refresh_ratings(app_id=app.pk)
    return apps


def icons_loaded(page, selector: str = "img.icon") -> bool:
    """Every image has loaded (lazy ones may still be on their way when the page's load event fires)."""
    page.wait_for_function(
        "(selector) => [...document.querySelectorAll(selector)].every(img => img.complete && img.naturalWidth > 0)",
        arg=selector,
    )
    return True


def test_browse_search_category_app_and_developer_pages(web, catalog):
    page = web.page
    web.go("/")
    assert page.locator(".app-card").count() == len(APPS)
    assert icons_loaded(page)
    web.shot("store-01-home")

    # Search from the keyboard: skip link, then tab to the search field.
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    if focused != "store-q":
        page.focus("#store-q")
    page.keyboard.type("timer")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*q=timer.*"))
    assert page.locator(".app-card").count() == 1
    web.shot("store-02-search")

    web.go("/")
    page.get_by_role("navigation", name="Categories").get_by_role(
        "link", name=re.compile("Productivity")
    ).click()
    page.wait_for_url(re.compile(r".*/categories/productivity/$"))
    assert page.locator(".app-card").count() == 2
    web.shot("store-03-category")

    page.get_by_role("link", name="Field Notes").click()
    page.wait_for_url(re.compile(r".*/apps/com\.example\.notes/$"))
    assert icons_loaded(page)
    page.locator(".screenshots").scroll_into_view_if_needed()
    assert icons_loaded(page, ".screenshots img")
    assert page.locator(".ratings meter").count() == 5
    assert "Fixed in 1.1.0" in page.inner_text(".reviews")
    assert page.inner_text(".changelog li >> nth=0").startswith("1.1.0")
    web.shot("store-04-app-page")
    web.phone()
    web.shot("store-04-app-page-phone")
    web.no_horizontal_overflow()
    web.desktop()

    download = page.get_by_role("link", name="Download 1.1.0", exact=True)
    assert download.get_attribute("href") == "/v1/store/apps/com.example.notes/download?redirect=1"

    page.get_by_role("link", name="Ada Lovelace").click()
    page.wait_for_url(re.compile(r".*/developers/[0-9a-f-]+/$"))
    assert page.get_by_role("heading", name="Apps by Ada Lovelace").is_visible()
    assert page.locator(".app-card").count() == len(APPS)
    web.shot("store-05-developer")
    web.phone()
    web.go("/")
    web.shot("store-06-home-phone")
    web.no_horizontal_overflow()
    web.assert_clean()


def test_api_docs_load_offline(web):
    """Swagger UI from this server's static files: it renders the API without reaching any other host."""
    page = web.page
    outside = []
    page.on(
        "request",
        lambda request: outside.append(request.url) if not request.url.startswith(web.base_url) else None,
    )
    web.go("/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "Mosis Store API" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 10
    web.shot("docs-01-swagger", full_page=False)
    assert not outside, outside
    web.assert_clean()
