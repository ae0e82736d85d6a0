"""``/portal/``: the developer's apps, each with its state and what to do next."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_safe

from ..selectors import dashboard_apps, dashboard_rows
from .common import paginate

APPS_PER_PAGE = 25


@login_required
@require_safe
def dashboard(request):
    page = paginate(request, dashboard_apps(user=request.user), APPS_PER_PAGE)
    rows = dashboard_rows(apps=list(page.object_list))
    return render(request, "portal/dashboard.html", {"page": page, "rows": rows})
