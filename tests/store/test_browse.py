"""GET /v1/store/apps and /v1/store/categories: listing rules, search relevance, filters, sorts, query counts."""

import pytest

from apps.constants import AppStatus
from store.catalog.services.listing import bayesian_rating
from store.models import AppListing
from tests.conftest import requires_postgres
from tests.factories import CategoryFactory

from .conftest import make_published_app, make_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


def _ids(response):
    assert response.status_code == 200, response.content
    return [item["package_id"] for item in response.json()["apps"]]


def test_only_published_apps_with_live_version_are_listed(api_client):
    listed = make_published_app()
    for status in (
        AppStatus.DRAFT,
        AppStatus.UNLISTED,
        AppStatus.PENDING_DISABLE,
        AppStatus.SUSPENDED,
        AppStatus.DISABLED,
    ):
        make_published_app(status=status)
    only_yanked = make_published_app(versions=0)
    make_version(only_yanked, code=1, yanked=True)
    body = api_client.get("/v1/store/apps").json()
    assert [a["package_id"] for a in body["apps"]] == [listed.package_id]
    assert body["total"] == 1
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 1, "total_pages": 1, "total_exact": True}


def test_public_app_has_seed_000_fields(api_client):
    app = make_published_app(versions=2, tags=["notes", "writing"])
    item = api_client.get("/v1/store/apps").json()["apps"][0]
    assert item["package_id"] == app.package_id
    assert item["latest_version"] == "1.2.0"
    assert item["version_code"] == 2
    assert item["tags"] == ["notes", "writing"]
    assert item["category"] == app.category.slug
    assert item["author_name"] == app.owner.name
    assert item["download_count"] == 0
    assert item["rating"] is None
    for field in (
        "description",
        "icon_url",
        "type",
        "downloads_recent",
        "rating_count",
        "created_at",
        "updated_at",
    ):
        assert field in item


def test_search_ranks_exact_name_first(api_client):
    make_published_app(name="Notes Sync Helper", description="Keeps your notes in sync.")
    make_published_app(name="Better Notes Pro", tags=["notes"])
    exact = make_published_app(name="Notes", description="Simple notes.")
    ids = _ids(api_client.get("/v1/store/apps", {"q": "Notes"}))
    assert ids[0] == exact.package_id
    assert len(ids) == 3


def test_search_by_exact_package_id_ranks_it_first(api_client):
    target = make_published_app(package_id="com.acme.writer", name="Writer")
    make_published_app(name="Writer Deluxe", description="com.acme.writer compatible")
    ids = _ids(api_client.get("/v1/store/apps", {"q": "com.acme.writer"}))
    assert ids[0] == target.package_id


def test_search_never_returns_hidden_apps(api_client):
    make_published_app(name="Secret Notes", status=AppStatus.SUSPENDED)
    make_published_app(name="Unlisted Notes", status=AppStatus.UNLISTED)
    assert _ids(api_client.get("/v1/store/apps", {"q": "Notes"})) == []


@requires_postgres
def test_search_with_a_typo_still_finds_the_app_on_postgres(api_client):
    app = make_published_app(name="Calendar", description="Plan your week.")
    make_published_app(name="Weather", description="Forecasts.")
    assert _ids(api_client.get("/v1/store/apps", {"q": "Calender"})) == [app.package_id]


@requires_postgres
def test_full_text_weighs_name_above_description_on_postgres(api_client):
    in_description = make_published_app(name="Planner", description="A tool for budget tracking.")
    in_name = make_published_app(name="Budget", description="Money.")
    ids = _ids(api_client.get("/v1/store/apps", {"q": "budget"}))
    assert ids == [in_name.package_id, in_description.package_id]


def test_filters_by_type_and_category_combined(api_client):
    tools = CategoryFactory(slug="tools")
    wanted = make_published_app(type="extension", category=tools)
    make_published_app(type="app", category=tools)
    make_published_app(type="extension")
    assert _ids(api_client.get("/v1/store/apps", {"type": "extension", "category": "tools"})) == [
        wanted.package_id
    ]


def test_offset_limit_pagination(api_client):
    for name in ("Alpha", "Bravo", "Charlie"):
        make_published_app(name=name)
    body = api_client.get("/v1/store/apps", {"sort": "name", "offset": 1, "limit": 1}).json()
    assert [a["name"] for a in body["apps"]] == ["Bravo"]
    assert body["total"] == 3


def test_mosis_version_filters_incompatible_and_shows_newest_compatible(api_client):
    both = make_published_app(versions=0)
    make_version(both, code=1, min_mosis="1.0", max_mosis="1.9")
    make_version(both, code=2, min_mosis="2.0")
    make_version(both, code=3, min_mosis="1.0", yanked=True)
    only_new = make_published_app(versions=0)
    make_version(only_new, code=1, min_mosis="2.0")
    open_range = make_published_app(versions=1)
    for app in (both, only_new, open_range):
        from store.catalog.services.listing import listing_refresh

        listing_refresh(app_id=app.pk)

    body = api_client.get("/v1/store/apps", {"mosis_version": "1.5", "sort": "name"}).json()
    by_id = {a["package_id"]: a for a in body["apps"]}
    assert set(by_id) == {both.package_id, open_range.package_id}
    assert by_id[both.package_id]["version_code"] == 1
    assert by_id[both.package_id]["latest_version"] == "1.1.0"

    newer = {
        a["package_id"]: a["version_code"]
        for a in api_client.get("/v1/store/apps", {"mosis_version": "2.1"}).json()["apps"]
    }
    assert newer == {both.package_id: 2, only_new.package_id: 1, open_range.package_id: 1}


def test_staff_max_mosis_override_caps_compatibility(api_client):
    app = make_published_app(versions=1, max_mosis_version_override="1.4")
    assert _ids(api_client.get("/v1/store/apps", {"mosis_version": "1.4"})) == [app.package_id]
    assert _ids(api_client.get("/v1/store/apps", {"mosis_version": "1.5"})) == []


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "best"},
        {"type": "gadget"},
        {"source": "elsewhere"},
        {"category": "not a slug"},
        {"q": "x" * 201},
        {"q": "nul\x00"},
        {"mosis_version": "one.two"},
        {"mosis_version": "1.2.3.4"},
        {"limit": 0},
    ],
    ids=str,
)
def test_bad_parameters_answer_400(api_client, params):
    response = api_client.get("/v1/store/apps", params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert set(error["details"]) == set(params)


@pytest.mark.parametrize("name", ["q", "category", "type", "source", "sort", "mosis_version"])
def test_a_parameter_sent_empty_is_a_400_naming_it(api_client, name):
    make_published_app()
    response = api_client.get("/v1/store/apps", {name: ""})
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {name: ["Must not be empty."]}


def test_the_cache_key_reads_the_filterset_parameters():
    from store.catalog.filters import BrowseFilter
    from store.catalog.views import BROWSE_PARAMS

    expected = {"page", "limit", "offset", *BrowseFilter.base_filters}
    assert expected == BROWSE_PARAMS
    assert {"q", "category", "type", "source", "sort", "mosis_version"} <= BROWSE_PARAMS


def test_totals_are_counted_up_to_the_depth_and_pages_beyond_it_are_400(api_client, monkeypatch):
    from store.catalog.selectors import BrowseResults

    monkeypatch.setattr(BrowseResults, "max_depth", 3)
    apps = [make_published_app(name=f"Deep {n}") for n in range(5)]
    body = api_client.get("/v1/store/apps", {"sort": "name", "limit": 2}).json()
    assert body["total"] == 3
    assert body["pagination"] == {"page": 1, "limit": 2, "total": 3, "total_pages": 2, "total_exact": False}
    last = api_client.get("/v1/store/apps", {"sort": "name", "limit": 2, "page": 2}).json()
    assert [a["package_id"] for a in last["apps"]] == [apps[2].package_id]  # the page ends at the depth
    for params, name in (({"page": 3}, "page"), ({"offset": 3}, "offset")):
        response = api_client.get("/v1/store/apps", {"sort": "name", "limit": 2, **params})
        assert response.status_code == 400
        assert list(response.json()["error"]["details"]) == [name]
    exact = api_client.get("/v1/store/apps", {"q": "Deep 1"}).json()["pagination"]
    assert exact["total_exact"] is True


def test_html_store_pages_count_up_to_the_depth(client, monkeypatch):
    from store.catalog.selectors import BrowseResults

    monkeypatch.setattr(BrowseResults, "max_depth", 2)
    for n in range(4):
        make_published_app(name=f"Shelf {n}")
    from django.urls import reverse

    response = client.get(reverse("store-home"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 2
    assert (
        "2+ apps (the first 2 can be browsed" in response.content.decode()
    )  # never "2 apps" when there are more
    few = client.get(reverse("store-home") + "?q=Shelf 1").content.decode()
    assert ">1 app</p>" in few


def _set(app, **fields):
    AppListing.objects.filter(app=app).update(**fields)


def test_sort_popular_uses_recent_downloads_then_total(api_client):
    a, b, c = make_published_app(), make_published_app(), make_published_app()
    _set(a, downloads_recent=5, downloads_total=100)
    _set(b, downloads_recent=50, downloads_total=60)
    _set(c, downloads_recent=5, downloads_total=500)
    assert _ids(api_client.get("/v1/store/apps", {"sort": "popular"})) == [
        b.package_id,
        c.package_id,
        a.package_id,
    ]
    assert _ids(api_client.get("/v1/store/apps")) == [b.package_id, c.package_id, a.package_id]


def test_sort_recent_and_name(api_client):
    old = make_published_app(name="Zeta")
    new = make_published_app(name="Alpha")
    from datetime import timedelta

    from django.utils import timezone

    _set(old, last_published_at=timezone.now() - timedelta(days=3))
    _set(new, last_published_at=timezone.now())
    assert _ids(api_client.get("/v1/store/apps", {"sort": "recent"})) == [new.package_id, old.package_id]
    assert _ids(api_client.get("/v1/store/apps", {"sort": "name"})) == [new.package_id, old.package_id]


def test_sort_rating_is_bayesian_so_one_five_star_does_not_beat_many_high_ratings(api_client):
    lone = make_published_app()
    proven = make_published_app()
    _set(lone, rating_count=1, rating_sum=5, rating_score=bayesian_rating(rating_sum=5, rating_count=1))
    _set(
        proven,
        rating_count=1000,
        rating_sum=4800,
        rating_score=bayesian_rating(rating_sum=4800, rating_count=1000),
    )
    ids = _ids(api_client.get("/v1/store/apps", {"sort": "rating"}))
    assert ids == [proven.package_id, lone.package_id]
    item = api_client.get("/v1/store/apps", {"sort": "rating"}).json()["apps"][0]
    assert item["rating"] == 4.8 and item["rating_count"] == 1000


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "App"}, {"mosis_version": "1.5"}, {"sort": "rating", "type": "app"}],
    ids=["default", "search", "mosis", "sorted"],
)
def test_browse_query_count_does_not_grow_with_apps(api_client, django_assert_max_num_queries, params):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_published_app()
    with CaptureQueriesContext(connection) as one:
        assert api_client.get("/v1/store/apps", params).status_code == 200
    for _ in range(29):
        make_published_app()
    cache.clear()
    # At most as many: a search with less than a page of matches also looks its words up in the vocabulary.
    with django_assert_max_num_queries(len(one.captured_queries)):
        body = api_client.get("/v1/store/apps", {**params, "limit": 50}).json()
    assert body["total"] == 30
    assert len(one.captured_queries) <= 4


def test_categories_list_counts_listed_apps_only(api_client, django_assert_num_queries):
    tools = CategoryFactory(slug="tools", name="Tools", position=1)
    CategoryFactory(slug="games", name="Games", position=2)
    make_published_app(category=tools)
    make_published_app(category=tools)
    make_published_app(category=tools, status=AppStatus.SUSPENDED)
    with django_assert_num_queries(2):
        body = api_client.get("/v1/store/categories").json()
    counts = {c["slug"]: c["app_count"] for c in body["categories"]}
    assert counts["tools"] == 2 and counts["games"] == 0
    assert body["total"] == len(body["categories"])
    for _ in range(30):
        CategoryFactory()
    from django.core.cache import cache

    cache.clear()
    with django_assert_num_queries(2):
        assert api_client.get("/v1/store/categories", {"limit": 100}).status_code == 200


@pytest.mark.parametrize("params", [{"sort": "popular"}, {"sort": "name"}, {"q": "Pager"}], ids=str)
def test_pages_are_consecutive_slices_of_the_full_order(api_client, params):
    # Pages are fetched as "primary keys of the page in a subquery, then those rows" (BrowseResults):
    # the same order and ties (package_id) as one unpaged query, no row lost or repeated.
    apps = [make_published_app(name=f"Pager {n % 3}") for n in range(7)]
    for n, app in enumerate(apps):
        _set(app, downloads_recent=n % 2)
    everything = _ids(api_client.get("/v1/store/apps", {**params, "limit": 50}))
    assert len(everything) == 7
    pages = [
        api_client.get("/v1/store/apps", {**params, "page": page, "limit": 3}).json() for page in (1, 2, 3)
    ]
    assert [item["package_id"] for body in pages for item in body["apps"]] == everything
    assert {body["total"] for body in pages} == {7}


@requires_postgres
def test_common_word_search_is_full_text_only_on_postgres(api_client, django_assert_num_queries):
    # A page or more of full-text matches: the trigram predicates (which made PostgreSQL scan every row)
    # are not added, so a name only similar to the word is not listed; with less than a page it is.
    for n in range(20):
        make_published_app(name=f"Budget {n}", description="Money.")
    similar_only = make_published_app(name="Budgat", description="Money.")
    body = api_client.get("/v1/store/apps", {"q": "budget", "limit": 50}).json()
    ids = [item["package_id"] for item in body["apps"]]
    assert len(ids) == 20 and body["total"] == 20
    assert similar_only.package_id not in ids
    from django.core.cache import cache

    cache.clear()
    # probe for a page of full-text matches, count, page
    with django_assert_num_queries(3):
        assert api_client.get("/v1/store/apps", {"q": "budget"}).status_code == 200
    fewer = _ids(api_client.get("/v1/store/apps", {"q": "budgat"}))
    assert fewer[0] == similar_only.package_id
