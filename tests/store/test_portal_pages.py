"""The public store's pages: an app's listing (seed 001's detail), categories and a developer's apps, read
through the store's selectors; hidden apps are 404s; icons and links follow the host the site is served on."""

import html

import pytest
from django.urls import reverse

from apps.constants import AppStatus
from apps.services import app_set_status
from store.catalog.services.listing import listing_refresh, listing_refresh_ratings
from store.community.services.reviews import review_reply_set, review_upsert
from tests.factories import AppFactory, CategoryFactory, UserFactory
from tests.store.conftest import make_published_app, make_version

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def listed(db):
    category = CategoryFactory(slug="productivity", name="Productivity")
    app = AppFactory(
        status=AppStatus.PUBLISHED,
        package_id="com.example.notes",
        name="Notes",
        category=category,
        description="Take notes fast.",
        long_description="# Notes\n\nWrite **fast**.\n\n<script>alert(1)</script>",
        screenshots=["https://cdn.example.com/s1.png", "https://cdn.example.com/s2.png"],
        homepage_url="https://notes.example.com",
        support_url="https://notes.example.com/help",
        tags=["notes"],
    )
    app.owner.name = "Ada Dev"
    app.owner.save()
    make_version(app, code=1, name="1.0.0", release_notes="First release.")
    make_version(
        app,
        code=2,
        name="1.1.0",
        release_notes="Tags and search.",
        permissions=["network", "camera"],
        languages=["de", "en"],
        min_mosis="1.2",
        max_mosis="2.9",
        dependencies={"com.example.sync": "^2.1.0"},
    )
    listing_refresh(app_id=app.pk)
    for rating, title in ((5, "Great"), (4, "Good"), (5, "Love it")):
        review, _ = review_upsert(app=app, user=UserFactory(), rating=rating, title=title, body="Body.")
    review_reply_set(review=review, author=app.owner, body="Thanks!")
    listing_refresh_ratings(app_id=app.pk)
    return app


def test_the_app_page_shows_the_listing_detail(client, listed):
    response = client.get(reverse("store-page-app", args=["com.example.notes"]))
    assert response.status_code == 200
    page = text(response)
    body = response.content.decode()
    assert "<h1>Notes</h1>" in body
    assert "Ada Dev" in page
    assert '<img src="https://cdn.example.com/s1.png"' in body
    assert "<strong>fast</strong>" in body
    assert "<script>alert(1)" not in body
    assert "Mosis 1.2 – 2.9" in page
    assert "de, en" in page
    assert '<code>camera</code> <span class="badge badge-warning">sensitive</span>' in body
    assert "Capture photos and video." in page
    assert "com.example.sync" in page
    assert page.index("1.1.0") < page.index("First release.")  # changelog, newest first
    assert "Tags and search." in page
    assert "★ 4.7" in page
    assert "3 ratings" in page
    assert 'max="3" value="2"' in body  # two 5-star ratings of three
    assert "Love it" in page and "Thanks!" in page
    assert 'href="/v1/store/apps/com.example.notes/download?redirect=1"' in body
    assert "/v1/store/apps/com.example.notes/versions/1/download?redirect=1" in body
    assert reverse("store-page-developer", args=[listed.owner_id]) in body
    assert reverse("store-page-category", args=["productivity"]) in body


def test_the_download_button_leads_to_the_package(client, listed):
    response = client.get(reverse("store-app-download", args=["com.example.notes"]) + "?redirect=1")
    assert response.status_code == 302
    assert "/v1/files/" in response["Location"] or response["Location"].startswith("http")


def test_hidden_and_unknown_apps_are_404_pages_and_unlisted_ones_are_reachable(
    client, listed, django_capture_on_commit_callbacks
):
    draft = AppFactory(package_id="com.example.draft")
    listing_refresh(app_id=draft.pk)
    assert client.get(reverse("store-page-app", args=["com.example.draft"])).status_code == 404
    missing = client.get(reverse("store-page-app", args=["com.example.none"]))
    assert missing.status_code == 404
    assert "Page not found" in text(missing)
    with django_capture_on_commit_callbacks(execute=True):
        app_set_status(app=listed, to=AppStatus.UNLISTED, actor=listed.owner)
    page = client.get(reverse("store-page-app", args=["com.example.notes"]))
    assert page.status_code == 200
    assert "Unlisted" in text(page)
    assert "com.example.notes" not in client.get(reverse("store-home")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        app_set_status(app=listed, to=AppStatus.SUSPENDED, actor=UserFactory(is_staff=True))
    assert client.get(reverse("store-page-app", args=["com.example.notes"])).status_code == 404


def test_a_category_page_lists_its_listed_apps(client, listed):
    other = CategoryFactory(slug="games", name="Games")
    make_published_app(package_id="com.example.chess", name="Chess", category=other)
    page = text(client.get(reverse("store-page-category", args=["productivity"])))
    assert "<h1>Productivity</h1>" in page
    assert "com.example.notes" in page
    assert "com.example.chess" not in page
    assert client.get(reverse("store-page-category", args=["nothing-here"])).status_code == 404


def test_a_developer_page_lists_their_listed_apps_only(client, listed):
    owner = listed.owner
    make_published_app(package_id="com.example.todo", name="Todo", owner=owner)
    AppFactory(owner=owner, package_id="com.example.secretdraft")
    page = text(client.get(reverse("store-page-developer", args=[owner.pk])))
    assert "Apps by Ada Dev" in page
    assert "com.example.notes" in page and "com.example.todo" in page
    assert "com.example.secretdraft" not in page
    nobody = UserFactory()
    assert client.get(reverse("store-page-developer", args=[nobody.pk])).status_code == 404


def test_cards_link_to_the_app_pages_and_show_the_apis_rating(client, listed):
    body = client.get(reverse("store-home")).content.decode()
    assert "★ 4.7</span> (3)" in body
    assert f'href="{reverse("store-page-app", args=["com.example.notes"])}"' in body
    assert '/v1/store/apps/com.example.notes"' not in body


def test_search_keeps_the_query_across_pages(client, db):
    for i in range(30):
        make_published_app(package_id=f"com.example.note{i}", name=f"Note {i}")
    page = client.get(reverse("store-home"), {"q": "Note"}).content.decode()
    assert "30 apps" in page
    assert "q=Note&amp;category=&amp;page=2" in page  # the next page searches the same words
    second = client.get(reverse("store-home"), {"q": "Note", "page": "2"}).content.decode()
    assert second.count('class="card app-card"') == 6
    odd = client.get(reverse("store-home"), {"q": "a&b=c"}).content.decode()
    assert 'value="a&amp;b=c"' in odd


def test_packaged_icons_follow_the_host_the_site_is_served_on(client, settings):
    from mosis.core import storage

    settings.SITE_URL = ""
    app = make_published_app(versions=0, package_id="com.example.packaged")
    key = f"apps/{app.pk}/icon.png"
    storage.put_bytes(key, b"\x89PNG")
    make_version(app, code=3, icon_key=key)
    listing_refresh(app_id=app.pk)
    for host in ("store.test:8080", "127.0.0.1:9000"):
        settings.ALLOWED_HOSTS = [host.split(":")[0]]
        expected = f"http://{host}/v1/store/apps/com.example.packaged/versions/3/icon"
        assert f'src="{expected}"' in client.get("/", HTTP_HOST=host).content.decode()
        assert (
            f'src="{expected}"'
            in client.get(
                reverse("store-page-app", args=["com.example.packaged"]), HTTP_HOST=host
            ).content.decode()
        )
