"""Benchmark dataset: 100 000 published apps, 300 000 versions, 1 000 000 reviews on PostgreSQL.

Usage (from the repository root; see docs/performance.md "Store load")::

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/mosis_bench
    .venv/bin/python manage.py migrate --noinput
    .venv/bin/python bench/dataset.py --reset

Rows are streamed with PostgreSQL ``COPY ... FROM STDIN`` (psycopg 3 ``cursor.copy``); the AppListing read
model is then completed in SQL: ratings aggregated from the reviews (same Bayesian score as
``store.catalog.services.listing``), the weighted full-text ``search_vector`` (name A, tags B, descriptions C, the
same text-search config as the store), and ``ANALYZE`` so the planner sees real statistics. Every version points at one
small real package file in local storage, so download redirects work.

Columns are taken from the models at run time: a field added later with a default (or nullable) is filled
with that default, a field without one stops the run naming it. ``--reset`` truncates the tables first;
without it the script refuses to run on a database that already has apps. Only databases whose name contains
``bench`` are touched unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mosis.settings.base")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, models  # noqa: E402
from django.db.models.fields import AutoFieldMixin  # noqa: E402

from accounts.models import User  # noqa: E402
from apps.models import App, Category  # noqa: E402
from store.catalog.constants import SEARCH_CONFIG  # noqa: E402

# The store's own constants, so the SQL below computes exactly what store.catalog.services.listing would.
from store.catalog.services.listing import (  # noqa: E402
    RATING_PRIOR_MEAN,
    RATING_PRIOR_WEIGHT,
    listing_documents_fill,
)
from store.catalog.services.search_words import search_words_rebuild  # noqa: E402
from store.models import AppListing, DownloadDaily, Review  # noqa: E402
from versions.models import AppVersion  # noqa: E402

PACKAGE_KEY = "bench/bench-package.mpk"


def _words(text: str) -> list[str]:
    return text.split()


# Real words give searches with realistic hit counts ("markdown" matches ~1 % of the apps); generated
# brand words make names distinct the way real app names are.
WORDS = _words(
    """
notes sync calendar weather editor markdown theme dark light git github terminal shell python rust java
javascript typescript html css json yaml xml sql database postgres redis docker kubernetes cloud deploy build
test debug lint format snippet preview viewer player music video photo camera gallery image icon font color
palette clock timer alarm todo task project kanban board chat mail email contact phone map travel fitness
health food recipe finance budget wallet crypto bank invoice pdf document office spreadsheet slides drawing
sketch paint diagram chart graph analytics monitor metrics logs backup file manager explorer search finder
translate language dictionary spell grammar reader books news feed rss podcast radio stream game puzzle chess
cards quiz learn school math science physics chemistry astronomy space star planet moon sun cloud rain snow
wind forest ocean river mountain city home garden plant pet dog cat bird fish security password vpn firewall
scanner qr barcode ruler compass level flashlight battery network wifi bluetooth usb printer keyboard mouse
screen record capture clipboard emoji sticker widget launcher dock panel sidebar toolbar menu tab window
workspace session history bookmark tag label filter sort merge diff compare patch release version package
plugin extension addon provider cluster server client proxy gateway api rest graphql socket http ftp ssh
remote local offline online mobile desktop web tiny simple quick smart auto super ultra mini pro lite plus
"""
)
WORD_CUM_WEIGHTS = list(itertools.accumulate(1.0 / (i + 5) for i in range(len(WORDS))))
SYLLABLES = _words("ka lo mi zu re ta no vi sa po de ri fu ne ko ba lu mo xe qi ja we yo ha ce di")
TYPE_WEIGHTS = {"app": 60, "extension": 25, "theme": 10, "provider": 3, "taskserv": 1, "cluster": 1}
CATEGORIES = [
    ("productivity", "Productivity"),
    ("developer-tools", "Developer tools"),
    ("themes", "Themes"),
    ("languages", "Languages"),
    ("communication", "Communication"),
    ("media", "Media"),
    ("education", "Education"),
    ("finance", "Finance"),
    ("games", "Games"),
    ("health", "Health"),
    ("utilities", "Utilities"),
    ("security", "Security"),
]
PERMISSIONS = ["network", "storage", "notifications", "location", "camera", "contacts"]


def log(message: str) -> None:
    print(message, flush=True)


class Timer:
    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.started
        if exc[0] is None:
            log(f"  {self.label:<44} {self.seconds:7.1f} s")


def zipf_weights(n: int, exponent: float, offset: float = 10.0) -> list[float]:
    return [1.0 / (i + offset) ** exponent for i in range(n)]


def spread(total: int, weights: Sequence[float], cap: int) -> list[int]:
    """Integers proportional to ``weights`` summing to ``total``, each at most ``cap``."""
    scale = total / sum(weights)
    counts = [min(cap, int(w * scale)) for w in weights]
    missing = total - sum(counts)
    i = len(counts) - 1
    while missing > 0:  # top up from the long tail, one each, so the head stays Zipf-shaped
        if counts[i] < cap:
            counts[i] += 1
            missing -= 1
        i = i - 1 if i > 0 else len(counts) - 1
    return counts


# --- COPY -----------------------------------------------------------------------------------------------


def _default_for(field: models.Field, now: datetime):
    if field.has_default():
        value = field.get_default()
    elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        value = now
    elif field.null:
        value = None
    elif field.empty_strings_allowed and isinstance(field, models.CharField | models.TextField):
        value = ""
    else:
        raise SystemExit(
            f"{field.model.__name__}.{field.name} has no default and bench/dataset.py does not fill it: "
            "add it to the generator."
        )
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    return value


def copy_rows(
    model: type[models.Model], names: Sequence[str], rows: Iterable[Sequence], *, table: str = ""
) -> int:
    """``COPY`` rows into the model's table (or ``table`` of the same shape). ``names`` are field attnames in
    row order; every other concrete field gets its default (JSON values in rows must already be JSON text)."""
    now = datetime.now(UTC)
    fields = {f.attname: f for f in model._meta.concrete_fields}
    unknown = set(names) - set(fields)
    if unknown:
        raise SystemExit(f"{model.__name__} has no fields {sorted(unknown)}: re-read the model.")
    # Serial primary keys are left to their sequence.
    rest = [f for name, f in fields.items() if name not in names and not isinstance(f, AutoFieldMixin)]
    defaults = tuple(_default_for(f, now) for f in rest)
    columns = [fields[n].column for n in names] + [f.column for f in rest]
    sql = 'COPY "{}" ({}) FROM STDIN'.format(
        table or model._meta.db_table, ", ".join(f'"{c}"' for c in columns)
    )
    count = 0
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(tuple(row) + defaults)
            count += 1
    return count


# --- Generators -----------------------------------------------------------------------------------------


class Dataset:
    def __init__(self, *, apps: int, versions: int, reviews: int, users: int, seed: int):
        self.n_apps = apps
        self.n_versions = versions
        self.n_reviews = reviews
        self.n_users = users
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.user_ids: list[uuid.UUID] = []
        self.user_names: list[str] = []
        self.category_ids: list[int] = []
        self.apps: list[dict] = []
        self.filler = sorted({self.brand() + self.rng.choice(SYLLABLES) for _ in range(30_000)})
        # Review and release-note texts come from pools: a million fresh sentences would only cost time.
        self.titles = [self.sentence(self.rng.randint(2, 6)) for _ in range(5000)]
        self.bodies = [self.sentence(self.rng.randint(10, 40)) for _ in range(5000)]

    # Text ----------------------------------------------------------------------------------------------
    def word(self) -> str:
        # Zipf over the real words, so some are common (~5 % of draws) and most are rare.
        return self.rng.choices(WORDS, cum_weights=WORD_CUM_WEIGHTS)[0]

    def brand(self) -> str:
        return "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 3)))

    def sentence(self, n: int) -> str:
        # Mostly filler from a large vocabulary, a quarter real words drawn uniformly: a real word then
        # appears in a few percent of the descriptions, as in a real catalog.
        words = (
            self.rng.choice(WORDS) if self.rng.random() < 0.25 else self.rng.choice(self.filler)
            for _ in range(n)
        )
        return " ".join(words).capitalize() + "."

    def when(self, days_back: int) -> datetime:
        return self.now - timedelta(seconds=self.rng.randint(0, days_back * 86400))

    # Tables --------------------------------------------------------------------------------------------
    def categories(self) -> int:
        for position, (slug, name) in enumerate(CATEGORIES):
            Category.objects.update_or_create(slug=slug, defaults={"name": name, "position": position})
        self.category_ids = list(Category.objects.order_by("position").values_list("id", flat=True))
        return len(self.category_ids)

    def users(self) -> int:
        rows = []
        for i in range(self.n_users):
            uid = uuid.UUID(int=self.rng.getrandbits(128), version=4)
            name = f"{self.brand().capitalize()} {self.brand().capitalize()}"
            joined = self.when(900)
            self.user_ids.append(uid)
            self.user_names.append(name)
            # "!" = an unusable password: bench users never log in.
            rows.append((uid, "!", f"user{i}@bench.mosis.dev", name, True, joined, joined, joined))
        names = ["id", "password", "email", "name", "is_active", "date_joined", "created_at", "updated_at"]
        return copy_rows(User, names, rows)

    def app_rows(self) -> Iterable[tuple]:
        types = list(TYPE_WEIGHTS)
        type_weights = list(TYPE_WEIGHTS.values())
        developers = self.n_users // 4  # a quarter of the users publish
        for i in range(self.n_apps):
            brand = self.brand()
            main = self.word()
            name = f"{brand.capitalize()} {main.capitalize()}"
            if self.rng.random() < 0.4:
                name += f" {self.word().capitalize()}"
            owner = self.rng.randrange(developers)
            created = self.when(700)
            tags = sorted({main, *(self.word() for _ in range(self.rng.randint(0, 3)))})
            app = {
                "id": uuid.UUID(int=self.rng.getrandbits(128), version=4),
                "package_id": f"com.{brand}.{main}{i}",
                "name": name[:100],
                "owner": owner,
                "created": created,
                "type": self.rng.choices(types, type_weights)[0],
                "category": self.rng.choice(self.category_ids),
                "tags": tags,
                "quality": self.rng.uniform(2.2, 4.9),
            }
            self.apps.append(app)
            description = f"{name}: " + self.sentence(self.rng.randint(8, 20))
            long_description = "\n\n".join(self.sentence(self.rng.randint(10, 20)) for _ in range(2))
            yield (
                app["id"],
                self.user_ids[owner],
                app["package_id"],
                app["name"],
                description[:500],
                long_description,
                app["category"],
                json.dumps(tags),
                app["type"],
                "published",
                f"https://cdn.bench.mosis.dev/icons/{i}.png",
                f"https://{brand}.example.com/",
                json.dumps([f"https://cdn.bench.mosis.dev/shots/{i}-{k}.png" for k in range(3)]),
                created,
                created,
                created,
                created,
            )

    def apps_table(self) -> int:
        names = [
            "id",
            "owner_id",
            "package_id",
            "name",
            "description",
            "long_description",
            "category_id",
            "tags",
            "type",
            "status",
            "icon_url",
            "homepage_url",
            "screenshots",
            "created_at",
            "updated_at",
            "first_published_at",
            "status_changed_at",
        ]
        return copy_rows(App, names, self.app_rows())

    def version_rows(self, package: dict) -> Iterable[tuple]:
        # Each app gets 1..5 versions in a repeating pattern: exactly 3 per app on average.
        per_app = self.n_versions / self.n_apps
        pattern = [1, 2, 3, 4, 5] if per_app == 3 else None
        manifest_base = {"min_mosis_version": "1.0", "max_mosis_version": "2.9"}
        for index, app in enumerate(self.apps):
            count = pattern[index % 5] if pattern else max(1, round(self.rng.gauss(per_app, 1)))
            published = app["created"]
            app["latest"] = None
            minor_min = self.rng.randint(0, 5)
            for code in range(1, count + 1):
                vid = uuid.UUID(int=self.rng.getrandbits(128), version=4)
                published = min(self.now, published + timedelta(days=self.rng.randint(1, 60)))
                # ~5 % of versions are yanked, never an app's first: "latest" is the newest non-yanked one.
                yanked = published + timedelta(days=1) if code > 1 and self.rng.random() < 0.05 else None
                if yanked is None:
                    app["latest"] = vid
                    app["latest_name"] = f"1.{code}.0"
                app["last_published"] = published
                min_version = f"1.{minor_min}"
                permissions = sorted(self.rng.sample(PERMISSIONS, self.rng.randint(0, 3)))
                manifest = {
                    **manifest_base,
                    "package_id": app["package_id"],
                    "name": app["name"],
                    "version_name": f"1.{code}.0",
                    "version_code": code,
                    "min_mosis_version": min_version,
                    "permissions": permissions,
                }
                yield (
                    vid,
                    app["id"],
                    f"1.{code}.0",
                    code,
                    self.rng.choice(self.bodies),
                    "published",
                    PACKAGE_KEY,
                    package["size"],
                    package["size"],
                    package["sha256"],
                    json.dumps(manifest),
                    json.dumps(permissions),
                    json.dumps(["en", "de"] if code % 2 else ["en"]),
                    min_version,
                    "2.9",
                    1_000_000 + minor_min * 1_000,
                    2_009_000,
                    published,
                    published,
                    published,
                    published,
                    published,
                    yanked,
                )

    def versions_table(self, package: dict) -> int:
        names = [
            "id",
            "app_id",
            "version_name",
            "version_code",
            "release_notes",
            "status",
            "package_key",
            "package_size",
            "declared_size",
            "sha256",
            "manifest",
            "permissions",
            "languages",
            "min_mosis_version",
            "max_mosis_version",
            "min_mosis_num",
            "max_mosis_num",
            "created_at",
            "updated_at",
            "submitted_at",
            "reviewed_at",
            "published_at",
            "yanked_at",
        ]
        return copy_rows(AppVersion, names, self.version_rows(package))

    def review_rows(self) -> Iterable[tuple]:
        # Popularity is Zipf-shaped over a random order of the apps: a few apps have thousands of reviews.
        order = list(range(self.n_apps))
        self.rng.shuffle(order)
        counts = spread(self.n_reviews, zipf_weights(self.n_apps, 1.0), cap=min(self.n_users, 20_000))
        population = range(self.n_users)
        for rank, app_index in enumerate(order):
            app = self.apps[app_index]
            app["popularity"] = 1.0 / (rank + 10)
            n = counts[rank]
            if not n:
                continue
            quality = app["quality"]
            for user_index in self.rng.sample(population, n):
                rating = min(5, max(1, round(self.rng.gauss(quality, 1.1))))
                created = self.when(700)
                has_text = self.rng.random() < 0.6
                yield (
                    uuid.UUID(int=self.rng.getrandbits(128), version=4),
                    app["id"],
                    self.user_ids[user_index],
                    rating,
                    self.rng.choice(self.titles) if has_text else "",
                    self.rng.choice(self.bodies) if has_text else "",
                    app.get("latest_name", "1.1.0"),
                    self.rng.random() < 0.005,
                    created,
                    created,
                )

    def reviews_table(self) -> int:
        names = ["id", "app_id", "user_id", "rating", "title", "body", "version_name", "hidden"]
        names += ["created_at", "updated_at"]
        return copy_rows(Review, names, self.review_rows())

    def listing_rows(self) -> Iterable[tuple]:
        for app in self.apps:
            # Downloads follow the same popularity as reviews, with noise; "recent" = the last 7 days.
            total = int(
                app.get("popularity", 1e-5) * 40_000_000 * self.rng.uniform(0.5, 1.5)
            ) + self.rng.randint(0, 50)
            recent = int(total * self.rng.uniform(0.01, 0.05))
            app["downloads_recent"] = recent
            yield (
                app["id"],
                True,
                app["package_id"],
                app["name"],
                app["type"],
                app["category"],
                self.user_names[app["owner"]],
                app["latest"],
                app["last_published"],
                total,
                recent,
                self.now,
            )

    def listings_table(self) -> int:
        names = ["app_id", "listed", "package_id", "name", "type", "category_id", "author_name"]
        names += [
            "latest_version_id",
            "last_published_at",
            "downloads_total",
            "downloads_recent",
            "updated_at",
        ]
        # Staged in an index-less temporary table: ratings and search vectors are filled in there and the
        # rows enter store_applisting (with its GIN/trigram indexes) in one INSERT, not via UPDATEs.
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {STAGE}")
            cursor.execute(f"CREATE TEMP TABLE {STAGE} (LIKE store_applisting INCLUDING DEFAULTS)")
        return copy_rows(AppListing, names, self.listing_rows(), table=STAGE)

    def download_daily_rows(self) -> Iterable[tuple]:
        today = date.today()
        for app in self.apps:
            recent = app["downloads_recent"]
            if not recent:
                continue
            for back in range(7):
                yield (app["latest"], app["id"], today - timedelta(days=back), recent // 7)

    def download_daily_table(self) -> int:
        return copy_rows(DownloadDaily, ["version_id", "app_id", "day", "count"], self.download_daily_rows())


# --- SQL completion -------------------------------------------------------------------------------------


STAGE = "bench_listing_stage"


def listing_sql() -> list[tuple[str, str]]:
    """Statements that complete the staged listings from apps and reviews (matching store.catalog.services.listing)
    and move them into store_applisting."""
    statements = [
        (
            "listing ratings aggregated from reviews",
            f"""
            UPDATE {STAGE} l SET
                rating_count = r.n, rating_sum = r.total,
                ratings_1 = r.r1, ratings_2 = r.r2, ratings_3 = r.r3, ratings_4 = r.r4, ratings_5 = r.r5,
                rating_score = ({RATING_PRIOR_WEIGHT} * {RATING_PRIOR_MEAN} + r.total)::float
                               / ({RATING_PRIOR_WEIGHT} + r.n)
            FROM (
                SELECT app_id, count(*) AS n, sum(rating) AS total,
                       count(*) FILTER (WHERE rating = 1) AS r1, count(*) FILTER (WHERE rating = 2) AS r2,
                       count(*) FILTER (WHERE rating = 3) AS r3, count(*) FILTER (WHERE rating = 4) AS r4,
                       count(*) FILTER (WHERE rating = 5) AS r5
                FROM store_review WHERE NOT hidden GROUP BY app_id
            ) r
            WHERE l.app_id = r.app_id
            """,
        ),
        (
            "listing rating_score for unrated apps",
            f"UPDATE {STAGE} SET rating_score = {RATING_PRIOR_MEAN} WHERE rating_count = 0",
        ),
    ]
    tags_text = "coalesce((SELECT string_agg(t, ' ') FROM jsonb_array_elements_text(a.tags) t), '')"
    statements.append(
        (
            "listing search_vector (name A, tags B, text C)",
            f"""
            UPDATE {STAGE} l SET search_vector =
                setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, coalesce(a.name, '')), 'A')
                || setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig, {tags_text}), 'B')
                || setweight(to_tsvector('{SEARCH_CONFIG}'::regconfig,
                                         coalesce(a.description, '') || ' ' || coalesce(a.long_description, '')),
                             'C')
            FROM apps_app a WHERE a.id = l.app_id
            """,
        )
    )
    statements.append(
        ("listings into store_applisting", f"INSERT INTO store_applisting SELECT * FROM {STAGE}")
    )
    statements.append(("drop staging table", f"DROP TABLE {STAGE}"))
    return statements


# --- Package --------------------------------------------------------------------------------------------


def bench_package() -> dict:
    """One small real package in package storage, shared by every version (downloads only redirect to it)."""
    import tempfile

    from mosis.core import storage
    from mosis_package import build_package

    manifest = {
        "package_id": "com.bench.package",
        "name": "Bench",
        "version_name": "1.0.0",
        "version_code": 1,
        "min_mosis_version": "1.0",
        "max_mosis_version": "2.9",
        "permissions": ["network"],
        "dependencies": {},
        "requires_restart": False,
        "icon": "icon.png",
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.mpk")
        build_package(path, manifest=manifest, files={"main.js": b"console.log('bench');\n" * 200})
        data = Path(path).read_bytes()
        storage.put_file(PACKAGE_KEY, path)
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


# --- Main -----------------------------------------------------------------------------------------------

TRUNCATE_TABLES: list[type[models.Model]] = [User, App, Category]


def reset() -> None:
    tables = ", ".join(f'"{m._meta.db_table}"' for m in TRUNCATE_TABLES)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {tables} CASCADE")


def run_sql(label: str, sql: str) -> None:
    with Timer(label), connection.cursor() as cursor:
        cursor.execute(sql)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", type=int, default=100_000)
    parser.add_argument("--versions", type=int, default=300_000)
    parser.add_argument("--reviews", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=80_000, help="a quarter of them publish the apps")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument(
        "--reset", action="store_true", help="truncate users, apps and everything below first"
    )
    parser.add_argument("--force", action="store_true", help="allow a database whose name lacks 'bench'")
    args = parser.parse_args(argv)

    db = settings.DATABASES["default"]
    if not settings.IS_POSTGRES:
        parser.error("needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/mosis_bench")
    if "bench" not in db["NAME"] and not args.force:
        parser.error(f"refusing to write to database {db['NAME']!r} (name lacks 'bench'; --force to insist)")
    if args.reviews > args.apps * min(args.users, 20_000):
        parser.error("more reviews than (apps x users) allows with one review per user per app")

    started = time.perf_counter()
    log(f"database {db['NAME']} on {db.get('HOST') or 'localhost'}")
    if args.reset:
        with Timer("truncate"):
            reset()
    elif App.objects.exists():
        parser.error("the database already has apps: run with --reset to rebuild the dataset")

    data = Dataset(
        apps=args.apps, versions=args.versions, reviews=args.reviews, users=args.users, seed=args.seed
    )
    steps: list[tuple[str, Callable[[], int]]] = []
    package: dict = {}
    steps.append(("package file", lambda: package.update(bench_package()) or 1))
    steps.append(("categories", data.categories))
    steps.append(("users", data.users))
    steps.append(("apps", data.apps_table))
    steps.append(("versions", lambda: data.versions_table(package)))
    steps.append(("reviews", data.reviews_table))
    steps.append(("listings", data.listings_table))
    steps.append(("download_daily (7 days x latest version)", data.download_daily_table))
    for label, step in steps:
        step_started = time.perf_counter()
        count = step()
        seconds = time.perf_counter() - step_started
        log(f"  {label:<44} {seconds:7.1f} s  {count:>10,} rows  {count / max(seconds, 1e-6):>9,.0f} rows/s")
    for label, sql in listing_sql():
        run_sql(label, sql)
    run_sql("ANALYZE", "ANALYZE")  # fresh statistics, so the fill's batch SELECTs join from the listings
    # The stored listing documents (and Markdown HTML) the listing read serves, rendered by the store's own
    # code (ListingSerializer): what `manage.py render_listings` does after a bulk load.
    step_started = time.perf_counter()
    count = listing_documents_fill(batch_size=1000)
    log(f"  {'listing documents':<44} {time.perf_counter() - step_started:7.1f} s  {count:>10,} rows")
    # The search vocabulary typo correction reads (what `manage.py rebuild_search_words` does).
    step_started = time.perf_counter()
    count = search_words_rebuild()
    log(f"  {'search words':<44} {time.perf_counter() - step_started:7.1f} s  {count:>10,} rows")
    run_sql("VACUUM ANALYZE", "VACUUM ANALYZE")
    log(f"done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
