"""PostgreSQL plans of browse and search on a few thousand listings: every query reads the listing table
through an index (or stops early under a LIMIT), and typo correction reads only the vocabulary table.

The rows are written in bulk (one INSERT per table), then ANALYZEd so the planner sees their statistics.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.constants import AppStatus
from apps.models import App, Category
from store.catalog import selectors
from store.catalog.constants import SEARCH_CONFIG
from store.catalog.services.search_words import search_words_rebuild
from store.models import AppListing
from tests.conftest import requires_postgres
from tests.factories import UserFactory
from versions.constants import VersionStatus
from versions.models import AppVersion

pytestmark = [pytest.mark.postgres, requires_postgres]

APPS = 4_000
WORDS = [
    "notes",
    "sync",
    "calendar",
    "weather",
    "editor",
    "markdown",
    "theme",
    "dark",
    "light",
    "terminal",
    "shell",
    "python",
    "database",
    "docker",
    "cloud",
    "player",
    "music",
    "video",
    "photo",
    "camera",
    "gallery",
    "clock",
    "timer",
    "todo",
    "kanban",
    "chat",
    "mail",
    "finance",
    "budget",
    "wallet",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "zu",
    "re",
    "ta",
    "no",
    "vi",
    "sa",
    "po",
    "de",
    "ri",
    "fu",
    "ne",
    "ko",
    "ba",
    "lu",
    "mo",
]
# About as many words as bench/dataset.py's, so a word matches a few percent of the apps, as it does there.
WORDS += [a + b + "x" for a in SYLLABLES[:12] for b in SYLLABLES[6:18] if a != b][:260]
TYPES = ["app"] * 6 + ["extension"] * 3 + ["theme"]


@pytest.fixture(scope="module")
def many_listings(django_db_setup, django_db_blocker):
    """APPS listed apps (one version each, a few hidden), committed for the module, removed after it."""
    rng = random.Random(18)
    with django_db_blocker.unblock():
        owner = UserFactory()
        categories = [
            Category.objects.create(slug=f"plan-{n}", name=f"Plan {n}", position=n) for n in range(6)
        ]
        now = timezone.now()
        apps = App.objects.bulk_create(
            App(
                owner=owner,
                package_id=f"com.plan.app{n}",
                name=f"{''.join(rng.sample(SYLLABLES, 3)).capitalize()} {rng.choice(WORDS).capitalize()}",
                description=f"A {rng.choice(WORDS)} tool for {rng.choice(WORDS)}.",
                long_description=" ".join(rng.choices(WORDS, k=6)),
                category=categories[n % len(categories)],
                tags=rng.sample(WORDS, 2),
                type=TYPES[n % len(TYPES)],
                status=AppStatus.PUBLISHED if n % 50 else AppStatus.SUSPENDED,
            )
            for n in range(APPS)
        )
        versions = AppVersion.objects.bulk_create(
            AppVersion(
                app=app,
                version_code=1,
                version_name="1.0.0",
                status=VersionStatus.PUBLISHED,
                package_key=f"plan/{app.pk}.mpk",
                package_size=1,
                sha256="0" * 64,
                min_mosis_num=1_000_000 + (n % 8) * 1_000,
                published_at=now - timedelta(minutes=n),
            )
            for n, app in enumerate(apps)
        )
        AppListing.objects.bulk_create(
            AppListing(
                app=app,
                listed=app.status == AppStatus.PUBLISHED,
                package_id=app.package_id,
                name=app.name,
                type=app.type,
                category=app.category,
                latest_version=version,
                last_published_at=version.published_at,
                downloads_total=rng.randrange(100_000),
                downloads_recent=rng.randrange(1_000),
                rating_score=rng.uniform(1, 5),
                # As wide as a real row (the stored listing document is ~1-2 kB): the planner's choice between
                # an index and a scan depends on how many pages the table has.
                listing_document="".join(rng.choices("abcdefghijklmnopqrstuvwxyz ", k=1_500)),
            )
            for app, version in zip(apps, versions, strict=True)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE store_applisting l SET search_vector ="
                " setweight(to_tsvector(%s::regconfig, l.name), 'A')"
                " || setweight(to_tsvector(%s::regconfig, a.tags::text), 'B')"
                " || setweight(to_tsvector(%s::regconfig, a.description || ' ' || a.long_description), 'C')"
                " FROM apps_app a WHERE a.id = l.app_id",
                [SEARCH_CONFIG] * 3,
            )
        search_words_rebuild()
        with connection.cursor() as cursor:
            for table in ("store_applisting", "store_searchword", "apps_app", "versions_appversion"):
                cursor.execute(f"ANALYZE {table}")
        yield apps
        with transaction.atomic():
            AppListing.objects.filter(app__in=apps).delete()
            AppVersion.objects.filter(app__in=apps).delete()
            App.objects.filter(pk__in=[a.pk for a in apps]).delete()
            Category.objects.filter(slug__startswith="plan-").delete()
            owner.delete()
            search_words_rebuild()


def _plans(params: dict, page: int = 1) -> list[tuple[str, dict]]:
    """Run the view's build step (total and page) and EXPLAIN ANALYZE each query it made."""
    mosis_num = params.pop("mosis_version", None)
    with CaptureQueriesContext(connection) as captured:
        results = selectors.store_browse_results(
            queryset=selectors.store_browse(**params, mosis_num=mosis_num)
        )
        offset = (page - 1) * 20
        assert results.count() > offset
        assert len(results[offset : offset + 20]) >= 1
    plans = []
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + query["sql"])
            plans.append((query["sql"], cursor.fetchone()[0][0]["Plan"]))
    return plans


def _nodes(plan: dict, under_limit: bool = False):
    """Each node of the plan with whether a Limit is above it."""
    yield plan, under_limit
    for child in plan.get("Plans", []):
        yield from _nodes(child, under_limit or plan["Node Type"] == "Limit")


def _assert_indexed(plans: list[tuple[str, dict]]) -> None:
    """No query reads the whole listing table: it is read through an index, or by a sequential scan under a
    LIMIT that stopped before the end (the capped total of a filter most rows pass: ~1 001 / the share that
    passes). The vocabulary is always read through its index."""
    for sql, plan in plans:
        for node, under_limit in _nodes(plan):
            if node["Node Type"] != "Seq Scan":
                continue
            relation = node.get("Relation Name")
            assert relation != "store_searchword", sql
            if relation == "store_applisting":
                examined = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node[
                    "Actual Loops"
                ]
                assert under_limit and examined < APPS, (
                    f"{examined} listing rows read by a sequential scan for:\n{sql}"
                )
    assert any(
        node.get("Relation Name") == "store_applisting" and "Index" in node["Node Type"]
        for _, plan in plans
        for node, _ in _nodes(plan)
    ), "no query used an index of the listing table"


BROWSE = [
    {"sort": sort, **extra}
    for sort in ("popular", "recent", "name", "rating")
    for extra in ({}, {"type": "extension"}, {"category": "plan-2"}, {"mosis_version": 1_004_000})
]


@pytest.mark.django_db
@pytest.mark.parametrize("params", BROWSE, ids=str)
@pytest.mark.parametrize("page", [1, 25])
def test_browse_reads_the_listings_through_their_indexes(many_listings, params, page):
    if page == 25 and len(params) > 1:
        page = 5  # a filter keeps fewer rows: still a page deep into them
    _assert_indexed(_plans(dict(params), page))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "q",
    ["notes", "dark theme", "calender", "markdwon", "<rare>", "<rare typo>", "com.plan.app17"],
    ids=["word", "two-words", "typo", "typo-common", "rare", "rare-typo", "package-id"],
)
def test_search_reads_the_full_text_index_and_the_vocabulary(many_listings, q):
    brand = many_listings[1].name.split()[0].lower()  # a made-up word: one app or a few have it
    q = {"<rare>": brand, "<rare typo>": brand[:-1] + "q"}.get(q, q)
    plans = _plans({"q": q})
    _assert_indexed(plans)
    if q in ("calender", "markdwon", brand[:-1] + "q"):
        assert any("store_searchword" in sql for sql, _ in plans)  # corrected from the vocabulary
