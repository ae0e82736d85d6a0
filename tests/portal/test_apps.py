"""App pages: create and edit with the API's own rules and messages, the long description's preview through
the store's sanitizer, unlist/relist through the App state machine, delete while never published."""

import html

import pytest
from django.urls import reverse

from apps.constants import AppStatus
from apps.models import ActivityEvent, App
from apps.services import app_set_status
from tests.factories import CategoryFactory, UserFactory
from tests.portal.conftest import make_app

pytestmark = pytest.mark.django_db

VALID = {
    "package_id": "com.example.notes",
    "name": "Notes",
    "description": "Take notes.",
    "long_description": "# Notes\n\nWrite **fast**.",
    "category": "tools",
    "type": "extension",
    "tags": "notes, writing",
    "icon_url": "https://cdn.example.com/icon.png",
    "screenshots": "https://cdn.example.com/1.png\nhttps://cdn.example.com/2.png\n",
    "homepage_url": "https://example.com",
    "support_url": "https://example.com/help",
    "requires_restart": "on",
}


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def test_creating_an_app_sets_every_api_field_and_lands_on_its_page(browser, user, category):
    response = browser.post(reverse("portal:app-new"), VALID)
    app = App.objects.get(package_id="com.example.notes")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:app", args=[app.pk])
    assert app.owner == user
    assert app.status == AppStatus.DRAFT
    assert (app.name, app.description, app.type) == ("Notes", "Take notes.", "extension")
    assert app.long_description == VALID["long_description"]
    assert app.category == category
    assert app.tags == ["notes", "writing"]
    assert app.screenshots == ["https://cdn.example.com/1.png", "https://cdn.example.com/2.png"]
    assert (app.icon_url, app.homepage_url, app.support_url) == (
        "https://cdn.example.com/icon.png",
        "https://example.com",
        "https://example.com/help",
    )
    assert app.requires_restart is True
    assert ActivityEvent.objects.filter(app=app, type="app.created").exists()
    follow = browser.get(response["Location"])
    assert "was created as a draft" in page_text(follow)


def test_bad_input_gets_the_apis_own_messages_on_the_form(browser, auth_client, category):
    bad = {
        "package_id": "Com.Example",
        "name": "",
        "homepage_url": "not a url",
        "screenshots": "http://insecure.example.com/1.png",
        "tags": "ok, " + "x" * 31,
        "category": "no-such-category",
        "type": "spaceship",
    }
    portal = browser.post(reverse("portal:app-new"), bad)
    assert portal.status_code == 400
    api = auth_client.post(
        "/v1/apps",
        {
            "package_id": bad["package_id"],
            "name": "",
            "homepage_url": bad["homepage_url"],
            "screenshots": [bad["screenshots"]],
            "tags": ["ok", "x" * 31],
            "category": bad["category"],
            "type": bad["type"],
        },
        format="json",
    )
    assert api.status_code == 400
    details = api.json()["error"]["details"]
    text = page_text(portal)
    for field in ("package_id", "name", "homepage_url", "screenshots", "category", "type"):
        for message in details[field]:
            assert message in text, (field, message)
    # A list item's error names the item, as the API's "tags.1" does.
    assert "Item 2: " + details["tags.1"][0] in text
    assert not App.objects.exists()
    # What was typed stays in the form.
    assert 'value="not a url"' in text


def test_a_taken_package_id_is_a_form_error_not_an_error_page(browser, category):
    make_app(UserFactory(), package_id="com.example.notes")
    response = browser.post(reverse("portal:app-new"), VALID)
    assert response.status_code == 400
    assert "An app with this package_id already exists." in page_text(response)


def test_editing_saves_only_what_changed_and_records_it(browser, app, category):
    url = reverse("portal:app-edit", args=[app.pk])
    form = browser.get(url)
    assert form.status_code == 200
    assert 'value="Portal App"' in page_text(form)
    data = {**VALID, "name": "Portal App", "description": "New words."}
    data.pop("package_id")
    response = browser.post(url, data)
    assert response.status_code == 302
    app.refresh_from_db()
    assert app.description == "New words."
    event = ActivityEvent.objects.filter(app=app, type="app.updated").get()
    assert "name" not in event.data["fields"]
    assert "description" in event.data["fields"]


def test_the_package_id_cannot_be_changed_by_editing(browser, app):
    data = {"package_id": "com.example.changed", "name": "Portal App"}
    browser.post(reverse("portal:app-edit", args=[app.pk]), data)
    app.refresh_from_db()
    assert app.package_id == "com.example.portal"


def test_the_preview_button_renders_the_description_sanitized_without_saving(browser, app):
    data = {
        "name": "Portal App",
        "long_description": '# Hello\n\n<script>alert("x")</script><img src=x onerror="alert(1)">**bold**',
        "preview": "1",
    }
    response = browser.post(reverse("portal:app-edit", args=[app.pk]), data)
    assert response.status_code == 200
    body = response.content.decode()
    preview = body.split('id="long-description-preview"', 1)[1].split("</section>", 1)[0]
    assert "<h3>Hello</h3>" in preview
    assert "<strong>bold</strong>" in preview
    assert "<script" not in preview
    assert "onerror" not in preview
    assert "&lt;script&gt;" in body  # the source stays in the textarea, escaped
    app.refresh_from_db()
    assert app.long_description == ""


def test_the_live_preview_uses_the_stores_sanitizer(browser):
    from portal.templatetags.portal import demote_headings
    from store.catalog.services.listing import render_long_description

    text = "## Title\n\n[click](javascript:alert(1)) <iframe src=//evil></iframe>"
    response = browser.post(reverse("portal:markdown-preview"), {"text": text})
    assert response.status_code == 200
    assert response.content.decode() == demote_headings(render_long_description(text))
    assert "<h4>Title</h4>" in response.content.decode()  # under the page's own headings
    assert "javascript:" not in response.content.decode()
    assert "<iframe" not in response.content.decode()
    too_long = browser.post(reverse("portal:markdown-preview"), {"text": "x" * 20001})
    assert too_long.status_code == 400


def test_unlist_and_relist_go_through_the_app_state_machine(browser, app):
    app_set_status(app=app, to=AppStatus.PUBLISHED, system=True)
    url = reverse("portal:app-status", args=[app.pk])
    page = browser.get(reverse("portal:app", args=[app.pk])).content.decode()
    assert 'value="unlisted"' in page
    response = browser.post(url, {"to": "unlisted"}, follow=True)
    app.refresh_from_db()
    assert app.status == AppStatus.UNLISTED
    assert "is unlisted" in page_text(response)
    assert 'value="published"' in response.content.decode()
    browser.post(url, {"to": "published"})
    app.refresh_from_db()
    assert app.status == AppStatus.PUBLISHED
    events = ActivityEvent.objects.filter(app=app, type="app.status_changed").order_by("created_at")
    assert [(e.data["from"], e.data["to"]) for e in events][-2:] == [
        ("published", "unlisted"),
        ("unlisted", "published"),
    ]


def test_a_move_the_owner_may_not_make_is_a_message_not_an_error_page(browser, app):
    app_set_status(app=app, to=AppStatus.PUBLISHED, system=True)
    staff = UserFactory(is_staff=True)
    app_set_status(app=app, to=AppStatus.SUSPENDED, actor=staff, reason="abuse")
    response = browser.post(reverse("portal:app-status", args=[app.pk]), {"to": "published"}, follow=True)
    assert response.status_code == 200
    assert "Only staff can change an app from 'suspended' to 'published'." in page_text(response)
    app.refresh_from_db()
    assert app.status == AppStatus.SUSPENDED
    draft = make_app(app.owner, package_id="com.example.draft")
    response = browser.post(reverse("portal:app-status", args=[draft.pk]), {"to": "unlisted"}, follow=True)
    assert "current state is 'draft'" in page_text(response)
    response = browser.post(reverse("portal:app-status", args=[draft.pk]), {"to": "disabled"}, follow=True)
    assert "Choose unlist or relist." in page_text(response)


def test_deleting_a_never_published_app(browser, app):
    confirm = browser.get(reverse("portal:app-delete", args=[app.pk]))
    assert "cannot be undone" in page_text(confirm)
    response = browser.post(reverse("portal:app-delete", args=[app.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:dashboard")
    assert not App.objects.filter(pk=app.pk).exists()


def test_a_published_app_cannot_be_deleted_and_says_why(browser, app):
    app_set_status(app=app, to=AppStatus.PUBLISHED, system=True)
    page = browser.get(reverse("portal:app-delete", args=[app.pk]))
    assert "Unlist it instead" in page_text(page)
    response = browser.post(reverse("portal:app-delete", args=[app.pk]), follow=True)
    assert response.status_code == 200
    assert "cannot be deleted; unlist it instead" in page_text(response)
    assert App.objects.filter(pk=app.pk).exists()


def test_categories_and_types_come_from_the_store_configuration(browser, settings):
    CategoryFactory(slug="games", name="Games")
    settings.APP_TYPES = ["app", "theme"]
    body = browser.get(reverse("portal:app-new")).content.decode()
    assert '<option value="games">Games</option>' in body
    assert '<option value="theme">Theme</option>' in body
    assert "extension" not in body.split('name="type"')[1].split("</select>")[0]
