"""Uncached browse and search at the selector level: ``store_browse`` + the page and total as the API builds them.

Usage (a database filled by bench/dataset.py; see docs/performance.md "Search and browse")::

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/mosis_bench
    .venv/bin/python bench/search.py                 # every case, median of 5 runs
    .venv/bin/python bench/search.py --explain       # and the EXPLAIN ANALYZE of each case's SQL

Each case is timed as the view's build step (``store_browse``, ``store_browse_results``, the paginator's
total and page, ``attach_shown_versions``, ``PublicAppSerializer``) with no store cache in front, so every
run queries PostgreSQL; its buffer cache is warm after the first run (the median of the rest is reported).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mosis.settings.base")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.test import APIRequestFactory  # noqa: E402

from mosis.core.pagination import StandardPagination  # noqa: E402
from store.catalog import selectors  # noqa: E402
from store.catalog.serializers import PublicAppSerializer  # noqa: E402

CASES = [
    ("word: notes (5 % of names)", {"q": "notes"}, 1),
    ("word: markdown", {"q": "markdown"}, 1),
    ("two words: dark theme", {"q": "dark theme"}, 1),
    ("rare word: kariyo (1 app)", {"q": "kariyo"}, 1),
    ("typo: calender", {"q": "calender"}, 1),
    ("typo: markdwon", {"q": "markdwon"}, 1),
    ("typo, rare: kariyu", {"q": "kariyu"}, 1),
    ("no match: zzqxv", {"q": "zzqxv"}, 1),
    ("package id: com.noja.mail1290", {"q": "com.noja.mail1290"}, 1),
    ("word + type=extension", {"q": "notes", "type": "extension"}, 1),
]
for sort in ("popular", "recent", "name", "rating"):
    for page in (1, 25, 50):
        CASES.append((f"browse sort={sort} page {page}", {"sort": sort}, page))
CASES += [
    ("browse type=theme page 1", {"type": "theme"}, 1),
    ("browse category=games page 25", {"category": "games"}, 25),
    ("browse mosis_version=1.4 page 1", {"mosis_version": 1_004_000}, 1),
]


def build(params: dict, page: int) -> tuple[dict, int]:
    browse = dict(params)
    mosis_num = browse.pop("mosis_version", None)
    queryset = selectors.store_browse(**browse, mosis_num=mosis_num)
    results = selectors.store_browse_results(queryset=queryset)
    request = Request(APIRequestFactory().get("/v1/store/apps", {"page": page, "limit": 20}))
    paginator = StandardPagination()
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.attach_shown_versions(paginator.paginate_queryset(results, request))
        body = paginator.envelope(PublicAppSerializer(rows, many=True).data)
    return body, len(queries.captured_queries)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", default="", help="cases whose label contains this text")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of each query")
    args = parser.parse_args()
    print(f"{'case':<36} {'median ms':>9} {'max ms':>8} {'queries':>7} {'total':>7} exact  items")
    for label, params, page in CASES:
        if args.only not in label:
            continue
        times = []
        for _ in range(max(2, args.runs)):
            started = time.perf_counter()
            body, queries = build(params, page)
            times.append((time.perf_counter() - started) * 1000)
        warm = times[1:]
        pagination = body["pagination"]
        print(
            f"{label:<36} {statistics.median(warm):9.1f} {max(warm):8.1f} {queries:>7} {pagination['total']:>7}"
            f" {str(pagination.get('total_exact', True)):<6} {len(body['results'])}"
        )
        if args.explain:
            with CaptureQueriesContext(connection) as captured:
                build(params, page)
            with connection.cursor() as cursor:
                for query in captured.captured_queries:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                    print("\n".join("    " + row[0] for row in cursor.fetchall()), "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
