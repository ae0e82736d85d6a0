"""Server-rendered public store pages (SPEC §9): browse and search, categories, an app's listing, a developer.

They read through the same selectors and services as ``/v1/store/...`` — the calls to the store's read side
are the ones in this module (listed in docs/architecture.md, "Pages"), so the pages and the API cannot
disagree about what is listed, how it is ranked or which icon it shows. An app or category that is not
public is an HTML 404, as the API's 404.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_safe

from mosis.core.errors import ApplicationError
from mosis_package import PERMISSIONS
from store.catalog.constants import rating_average
from store.catalog.links import store_icon_url_for
from store.catalog.selectors import (
    listed_app_for_package,
    listed_listings,
    store_browse,
    store_browse_results,
    store_categories,
)
from store.catalog.services.listing import listing_changelog, listing_for_app
from store.community.services.reviews import reviews_visible_for_app

PAGE_SIZE = 24
REVIEWS_PER_PAGE = 10
MAX_QUERY_LENGTH = 200


def _average(listing) -> float | None:
    """The rating the API shows (``rating``); the templates print it to one decimal."""
    return rating_average(rating_sum=listing.rating_sum, rating_count=listing.rating_count)


def _card_fields(listings) -> None:
    """What the API shows for the same rows: the icon (developer URL, else the shown version's packaged
    icon) and the average rating."""
    for item in listings:
        item.icon_url = store_icon_url_for(
            icon_url=item.app.icon_url, package_id=item.package_id, version=item.latest_version
        )
        item.rating = _average(item)


def _grid_page(request, listings):
    page = Paginator(listings, PAGE_SIZE).get_page(request.GET.get("page"))
    _card_fields(page)
    return page


@require_safe
def store_home(request):
    q = request.GET.get("q", "")[:MAX_QUERY_LENGTH].strip()
    category = request.GET.get("category", "")[:50]
    page = _grid_page(request, store_browse_results(queryset=store_browse(q=q, category=category)))
    categories = list(store_categories())
    return render(
        request,
        "store/home.html",
        {
            "page": page,
            "q": q,
            "category": category,
            "categories": categories,
            "listed_categories": [c for c in categories if c.app_count],
            "extra_query": urlencode({"q": q, "category": category}),
        },
    )


@require_safe
def store_category(request, slug: str):
    categories = list(store_categories())
    current = next((c for c in categories if c.slug == slug), None)
    if current is None:
        raise Http404("Category not found.")
    page = _grid_page(request, store_browse_results(queryset=store_browse(category=slug)))
    return render(
        request, "store/category.html", {"page": page, "category": current, "categories": categories}
    )


@require_safe
def store_app(request, package_id: str):
    try:
        app = listed_app_for_package(package_id)  # published or unlisted; anything else is a 404
    except ApplicationError:
        raise Http404("App not found.") from None
    listing = listing_for_app(app=app)
    version = listing.latest_version
    reviews = Paginator(reviews_visible_for_app(app=app), REVIEWS_PER_PAGE).get_page(
        request.GET.get("reviews")
    )
    ratings = [getattr(listing, f"ratings_{stars}") for stars in range(1, 6)]
    return render(
        request,
        "store/app.html",
        {
            "app": app,
            "listing": listing,
            "version": version,
            "icon_url": store_icon_url_for(icon_url=app.icon_url, package_id=app.package_id, version=version),
            "changelog": listing_changelog(app.pk),
            "reviews": reviews,
            "rating": _average(listing),
            "ratings": [(stars, ratings[stars - 1]) for stars in range(5, 0, -1)],
            "permissions": [
                (name, *PERMISSIONS.get(name, (False, "")))
                for name in (version.permissions if version else [])
            ],
            "max_mosis_version": (
                app.max_mosis_version_override or (version.max_mosis_version if version else "")
            ),
            "download_url": reverse("store-app-download", args=[app.package_id]) + "?redirect=1",
        },
    )


@require_safe
def store_developer(request, user_id):
    listings = listed_listings().filter(app__owner_id=user_id).order_by("name", "package_id")
    page = _grid_page(request, listings)
    if not page.object_list:
        raise Http404("Developer not found.")  # only developers with a listed app have a public page
    name = page.object_list[0].author_name  # the listing row's copy of the developer's name
    return render(request, "store/developer.html", {"page": page, "developer_name": name})
