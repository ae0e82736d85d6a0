"""Server-rendered public store front (SPEC §9): browse and search the listed apps in a browser.

It reads through the same selectors as ``GET /v1/store/apps``, so the page and the API cannot disagree.
"""

from django.core.paginator import Paginator
from django.shortcuts import render

from .selectors import store_browse, store_categories
from .services.icons import store_icon_url_for

PAGE_SIZE = 24
MAX_QUERY_LENGTH = 200


def store_home(request):
    q = request.GET.get("q", "")[:MAX_QUERY_LENGTH].strip()
    category = request.GET.get("category", "")[:50]
    listings = store_browse(q=q, category=category).select_related("category", "latest_version", "app")
    page = Paginator(listings, PAGE_SIZE).get_page(request.GET.get("page"))
    for item in page:  # the icon the API shows for the same row
        item.icon_url = store_icon_url_for(
            icon_url=item.app.icon_url, package_id=item.package_id, version=item.latest_version
        )
    return render(
        request,
        "store/home.html",
        {"page": page, "q": q, "category": category, "categories": store_categories()},
    )
