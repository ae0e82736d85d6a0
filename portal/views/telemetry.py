"""An app's analytics (daily downloads, active users and crashes, charted as SVG on the server) and its crash
groups: the selectors and query serializers of ``GET /v1/apps/{id}/analytics`` and ``/crashes``.

Both are GET forms: a bad or reversed range, or a bad version filter, is shown on the form (400), never an
error page.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from telemetry import selectors
from telemetry.constants import ANALYTICS_METRICS
from telemetry.services.partitions import utc_today

from ..charts import daily_chart
from ..forms import AnalyticsRangeForm, CrashFilterForm
from .common import owned_app_or_404, paginate

CRASH_GROUPS_PER_PAGE = 25
# Label, unit and whether a sum over days means something, for each metric in ANALYTICS_METRICS' order.
METRICS = {
    "downloads": ("Downloads", "downloads", True),
    "active_users": ("Active users", "active users (distinct devices)", False),
    "crashes": ("Crashes", "crash reports", True),
}
QUICK_RANGES = (7, 30, 90, 365)


def _quick_ranges(today: dt.date) -> list[dict]:
    return [
        {
            "days": days,
            "start_date": (today - dt.timedelta(days=days - 1)).isoformat(),
            "end_date": today.isoformat(),
        }
        for days in QUICK_RANGES
    ]


@login_required
@require_safe
def app_analytics(request, app_id):
    app = owned_app_or_404(request, app_id)
    form = AnalyticsRangeForm(request.GET)
    today = utc_today()
    context = {"app": app, "form": form, "quick_ranges": _quick_ranges(today)}
    if not form.is_valid():
        return render(request, "portal/analytics.html", context, status=400)
    start, end = form.validated["start"], form.validated["end"]
    rows = selectors.app_analytics(app=app, start=start, end=end, metrics=ANALYTICS_METRICS)
    charts = [
        daily_chart(rows=rows, metric=metric, label=label, unit=unit, additive=additive)
        for metric, (label, unit, additive) in METRICS.items()
    ]
    context.update(
        form=AnalyticsRangeForm(initial={"start_date": start.isoformat(), "end_date": end.isoformat()}),
        start=start,
        end=end,
        rows=rows,
        charts=charts,
        has_figures=any(chart.total for chart in charts),
    )
    return render(request, "portal/analytics.html", context)


@login_required
@require_safe
def crash_list(request, app_id):
    app = owned_app_or_404(request, app_id)
    form = CrashFilterForm(request.GET)
    if not form.is_valid():
        return render(request, "portal/crashes.html", {"app": app, "form": form, "groups": None}, status=400)
    version = form.validated.get("version")
    groups = paginate(
        request, selectors.crash_groups_for_app(app=app, version=version), CRASH_GROUPS_PER_PAGE
    )
    return render(
        request,
        "portal/crashes.html",
        {
            "app": app,
            "form": form,
            "version": version,
            "groups": groups,
            "extra_query": urlencode({"version": version}) if version else "",
        },
    )


@login_required
@require_safe
def crash_detail(request, app_id, crash_id):
    app = owned_app_or_404(request, app_id)
    group = selectors.crash_group_detail(app=app, group_id=crash_id)
    if group is None:
        raise Http404("Crash group not found.")
    return render(request, "portal/crash_detail.html", {"app": app, "group": group})
