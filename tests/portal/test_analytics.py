"""An app's analytics page (SPEC §9, issue 15): downloads, active users and crashes per UTC day as SVG charts
drawn on the server with a table of the same figures, for a range validated as ``GET /v1/apps/{id}/analytics``
validates it; a bad or reversed range is shown on the form, never an error page."""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse

from portal.charts import axis_maximum, daily_chart
from telemetry.services.partitions import utc_today
from tests.factories import community_published_app
from tests.portal.conftest import telemetry_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def tracked(user):
    return community_published_app("com.example.tracked", owner=user, name="Tracked")


def url(app, **query) -> str:
    base = reverse("portal:app-analytics", args=[app.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def table_rows(page: str) -> dict:
    """The figures table: {day: (downloads, active users, crashes)}."""
    rows = re.findall(
        r'<tr><th scope="row"><time datetime="([\d-]+)">[\d-]+</time></th>'
        r'<td class="num">(\d+)</td><td class="num">(\d+)</td><td class="num">(\d+)</td></tr>',
        page,
    )
    return {day: tuple(int(n) for n in figures) for day, *figures in rows}


def test_the_page_charts_and_tabulates_the_rolled_up_figures_of_the_last_30_days(browser, tracked):
    sent = telemetry_history(tracked, days=14)
    response = browser.get(url(tracked))
    assert response.status_code == 200
    page = response.content.decode()
    today = utc_today()

    figures = table_rows(page)
    assert len(figures) == 30  # the API's default range, zero-filled
    assert min(figures) == (today - dt.timedelta(days=29)).isoformat() and max(figures) == today.isoformat()
    for day, expected in sent.items():
        assert figures[day] == (expected["downloads"], expected["active_users"], expected["crashes"]), day
    assert figures[(today - dt.timedelta(days=20)).isoformat()] == (0, 0, 0)

    # Three charts, each an SVG image with a title and a description in words.
    assert page.count('role="img"') == 3
    total_downloads = sum(day["downloads"] for day in sent.values())
    assert f"Downloads per day, {(today - dt.timedelta(days=29)).isoformat()} to {today.isoformat()}" in page
    assert f"{total_downloads:,} downloads over 30 days" in html.unescape(page)
    assert page.count("<rect ") == 90  # one bar per day per metric
    # Active users are distinct devices a day: their headline is the daily average, never a sum over days.
    average = sum(day["active_users"] for day in sent.values()) / 30
    assert f"On average {average:.1f}".removesuffix(".0") in page
    assert "a day on average" in page
    assert 'value="' + today.isoformat() + '"' in page  # the form shows the range it drew
    assert "<script" not in page.split("<main", 1)[1]  # charts need no script


def test_a_chosen_range_shows_just_those_days(browser, tracked):
    sent = telemetry_history(tracked, days=5)
    start, end = sorted(sent)[1], sorted(sent)[3]
    page = browser.get(url(tracked, start_date=start, end_date=end)).content.decode()
    assert sorted(table_rows(page)) == sorted(sent)[1:4]
    assert f'value="{start}"' in page and f'value="{end}"' in page
    assert page.count("<rect ") == 9


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"start_date": "2026-05-10", "end_date": "2026-05-01"}, "start_date", "Must not be after end_date."),
        ({"start_date": "2024-01-01", "end_date": "2026-01-01"}, "end_date", "at most 366 days"),
        ({"start_date": "2026-02-30"}, "start_date", "Date has wrong format"),
        ({"end_date": "yesterday"}, "end_date", "Date has wrong format"),
        ({"end_date": "0001-01-03"}, None, None),  # the default start would fall before year 1: still fine
    ],
)
def test_a_bad_range_is_shown_on_the_form_not_as_an_error_page(browser, app, query, field, message):
    response = browser.get(url(app, **query))
    page = html.unescape(response.content.decode())
    if field is None:
        assert response.status_code == 200
        return
    assert response.status_code == 400
    errors = re.search(rf'<ul class="errors" id="id_{field}_errors">(.*?)</ul>', page, re.S).group(1)
    assert message in errors
    assert "Please correct the fields marked below." in page
    assert 'role="img"' not in page
    assert "Choose a valid range to see the charts." in page


def test_empty_boxes_mean_the_default_range(browser, app):
    response = browser.get(url(app, start_date="", end_date=""))
    assert response.status_code == 200
    assert len(table_rows(response.content.decode())) == 30


def test_an_app_without_telemetry_draws_empty_charts_that_say_so(browser, app):
    page = browser.get(url(app)).content.decode()
    assert "No downloads on any of the 30 days" in page
    assert "No crash reports on any of the 30 days" in page
    assert "Nothing in this range yet." in html.unescape(page)


def test_a_range_with_figures_has_no_empty_notice(browser, tracked):
    telemetry_history(tracked, days=2)
    assert "Nothing in this range yet." not in browser.get(url(tracked)).content.decode()


def test_the_app_page_links_to_its_analytics_and_crashes(browser, app):
    page = browser.get(reverse("portal:app", args=[app.pk])).content.decode()
    assert f'href="{reverse("portal:app-analytics", args=[app.pk])}"' in page
    assert f'href="{reverse("portal:app-crashes", args=[app.pk])}"' in page


# --- the chart's layout -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peak", "top"), [(0, 4), (1, 4), (4, 4), (5, 8), (9, 20), (37, 40), (41, 80), (999, 1000), (1234, 2000)]
)
def test_the_value_axis_ends_on_a_round_number_at_or_above_the_peak(peak, top):
    assert axis_maximum(peak) == top
    assert top >= peak and (top // 4) * 4 == top


def test_bars_are_proportional_and_every_day_has_one():
    rows = [
        {"date": f"2026-03-0{d}", "downloads": v} for d, v in zip(range(1, 5), [0, 10, 20, 5], strict=True)
    ]
    chart = daily_chart(rows=rows, metric="downloads", label="Downloads", unit="downloads")
    heights = [bar.height for bar in chart.bars]
    assert heights[0] == 0 and heights[2] == 2 * heights[1] and heights[1] == 2 * heights[3]
    assert [bar.day for bar in chart.bars] == [row["date"] for row in rows]
    assert (chart.total, chart.peak, chart.peak_day) == (35, 20, "2026-03-03")
    assert [tick.label for tick in chart.value_ticks] == ["0", "5", "10", "15", "20"]
    assert [tick.anchor for tick in chart.date_ticks] == ["middle"] * 4  # a short range: under each bar
    assert [tick.position for tick in chart.date_ticks] == [12.5, 37.5, 62.5, 87.5]
    assert "35 downloads over 4 days" in chart.summary
    assert (chart.headline_text, chart.headline_note) == ("35", "in total")


def test_a_figure_that_does_not_add_up_over_days_headlines_its_daily_average():
    rows = [
        {"date": f"2026-03-0{d}", "active_users": v} for d, v in zip(range(1, 5), [3, 3, 4, 4], strict=True)
    ]
    chart = daily_chart(
        rows=rows, metric="active_users", label="Active users", unit="devices", additive=False
    )
    assert (chart.headline_text, chart.headline_note) == ("3.5", "a day on average")
    assert chart.summary.startswith("On average 3.5 devices a day over 4 days")


def test_a_year_long_range_labels_dates_with_their_year():
    start = dt.date(2025, 12, 7)
    rows = [{"date": (start + dt.timedelta(days=i)).isoformat(), "crashes": 1200} for i in range(366)]
    chart = daily_chart(rows=rows, metric="crashes", label="Crashes", unit="crash reports")
    assert len(chart.bars) == 366 and len(chart.date_ticks) == 6
    assert chart.date_ticks[0].label == "Dec 7 2025"
    assert (chart.date_ticks[0].anchor, chart.date_ticks[0].position) == ("start", 0)
    assert (chart.date_ticks[-1].anchor, chart.date_ticks[-1].position) == ("end", 100)
    assert [tick.minor for tick in chart.date_ticks] == [False, True, True, False, True, False]
    assert chart.value_ticks[-1].label == "2k"
    assert all(bar.width == 10 for bar in chart.bars)  # no gaps: a gap would hide a one-pixel bar
