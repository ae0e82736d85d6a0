"""An app's crash groups (SPEC §9, issue 15): occurrences, first and last seen, counts per version, a filter
by version validated as ``GET /v1/apps/{id}/crashes`` validates it, and a group's page with its first stack
trace and its recent reports."""

import html
import re

import pytest
from django.urls import reverse

from telemetry.models import CrashGroup
from telemetry.services import crash_report_submit
from tests.factories import community_device
from tests.portal.conftest import JAVA_TRACE

pytestmark = pytest.mark.django_db


def report(
    app, version="1.0.0", crash_type="java.lang.NullPointerException", message="note was null", **extra
):
    device = extra.pop("device", None) or community_device()[0]
    return crash_report_submit(
        app_id=app.pk,
        app_version=version,
        crash_type=crash_type,
        message=message,
        stack_trace=JAVA_TRACE.format(line=41),
        device=device,
        **extra,
    )


def text(response) -> str:
    """What the page reads as: tags dropped, whitespace collapsed, entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_the_list_shows_each_group_with_its_counts_per_version(browser, app):
    for _ in range(3):
        report(app, "1.0.0")
    report(app, "1.1.0")
    report(
        app, "1.1.0", crash_type="java.lang.IllegalStateException", message="editor closed twice (id 1234)"
    )
    report(app, "1.1.0", crash_type="java.lang.IllegalStateException", message="editor closed twice (id 99)")

    response = browser.get(reverse("portal:app-crashes", args=[app.pk]))
    assert response.status_code == 200
    page = text(response)
    assert "Crash groups (2)" in page
    npe = CrashGroup.objects.get(crash_type="java.lang.NullPointerException")
    assert f'href="{reverse("portal:app-crash", args=[app.pk, npe.pk])}"' in response.content.decode()
    assert "Occurrences 4" in page
    assert "Per version: 1.1.0 × : 1 1.0.0 × : 3" in page
    assert "editor closed twice (id 1234)" in page  # one group: the numbers differ only
    assert page.index("java.lang.IllegalStateException") < page.index("java.lang.NullPointerException")


def test_filtering_by_version_shows_that_versions_counts(browser, app):
    for _ in range(3):
        report(app, "1.0.0")
    report(app, "1.1.0")
    report(app, "1.0.0", crash_type="OnlyInOld")
    page = text(browser.get(reverse("portal:app-crashes", args=[app.pk]) + "?version=1.1.0"))
    assert "Crash groups seen in 1.1.0 (1)" in page
    assert "OnlyInOld" not in page
    assert "Occurrences in 1.1.0 1" in page
    empty = text(browser.get(reverse("portal:app-crashes", args=[app.pk]) + "?version=9.9.9"))
    assert "No crash reported from version 9.9.9." in empty


@pytest.mark.parametrize(("query", "message"), [("version=" + "9" * 65, "no more than 64 characters")])
def test_a_bad_filter_is_shown_on_the_form(browser, app, query, message):
    response = browser.get(reverse("portal:app-crashes", args=[app.pk]) + "?" + query)
    assert response.status_code == 400
    page = text(response)
    assert message in page
    assert "Please correct the fields marked below." in page


def test_no_crashes_yet(browser, app):
    page = text(browser.get(reverse("portal:app-crashes", args=[app.pk])))
    assert "No crash reported yet." in page
    assert "Crash groups (0)" in page


def test_a_group_page_shows_the_first_stack_its_versions_and_recent_reports(browser, app):
    first = report(app, "1.0.0", context={"screen": "editor"})
    report(app, "1.1.0", message="note was null", context={"screen": "list <b>"})
    response = browser.get(reverse("portal:app-crash", args=[app.pk, first.group_id]))
    assert response.status_code == 200
    page = text(response)
    raw = response.content.decode()
    assert "<h1>java.lang.NullPointerException</h1>" in raw
    assert "at com.example.notes.Editor.save(Editor.java:41)" in page
    assert "In total 2" in page
    assert '"screen": "list <b>"' in page  # shown as text ...
    assert "list &lt;b&gt;" in raw  # ... escaped, not markup
    assert raw.count("<p><strong>1.") == 2  # two recent reports, newest first
    assert page.index("1.1.0 ·") < page.index("1.0.0 ·")
    assert f"{reverse('portal:app-crashes', args=[app.pk])}?version=1.1.0" in raw


def test_a_group_of_another_app_is_a_404_under_mine(browser, app, other_user):
    from tests.portal.conftest import make_app

    theirs = make_app(other_user, package_id="com.other.crashy")
    group = report(theirs)
    assert browser.get(reverse("portal:app-crash", args=[app.pk, group.group_id])).status_code == 404
    assert browser.get(reverse("portal:app-crash", args=[theirs.pk, group.group_id])).status_code == 404


def test_the_pages_of_a_filtered_list_keep_the_filter(browser, app):
    device = community_device()[0]
    for i in range(27):
        report(app, "2.0.0", crash_type=f"Type{i}", device=device)
    report(app, "1.0.0", crash_type="Old", device=device)
    base = reverse("portal:app-crashes", args=[app.pk])
    first = browser.get(base + "?version=2.0.0").content.decode()
    assert 'href="?version=2.0.0&amp;page=2"' in first
    second = text(browser.get(base + "?version=2.0.0&page=2"))
    assert "Crash groups seen in 2.0.0 (27)" in second and "Page 2 of 2" in second
    assert "Old" not in second.split("Crash groups seen in", 1)[1]


def test_the_dashboard_links_each_app_to_its_analytics(browser, app):
    page = browser.get(reverse("portal:dashboard")).content.decode()
    assert f'href="{reverse("portal:app-analytics", args=[app.pk])}"' in page
