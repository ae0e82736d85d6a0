"""Redis round trips and in-process CPU time per request of the hot reads, with the image's rate limits on.

Usage (from the repository root, after bench/dataset.py; see docs/performance.md "Rate limits and logs")::

    .venv/bin/python bench/round_trips.py --database-url postgres://postgres@127.0.0.1:5432/mosis_bench

Runs the production settings in this process (Django's test client, no server, no network but 127.0.0.1's
PostgreSQL and Redis, under a fresh cache key namespace that is deleted at the end) and, for the floor, a
warm anonymous listing and a warm download redirect, reports how many round trips to Redis one request
makes (every command written to a Redis connection is counted; a pipeline is one) and the CPU time one
request takes (minimum and median of ``--repeat`` requests, ``time.process_time``). Unlike req/s under ``wrk``, both
hardly move with the shared host's load, so they compare two versions of the code measured minutes apart.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/mosis_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--repeat", type=int, default=300, help="requests timed per target")
    parser.add_argument("--no-rate-limits", action="store_true", help="RATE_LIMITS_ENABLED=False")
    parser.add_argument(
        "--logs", action="store_true", help="the JSON request log at INFO, as the image writes it (to stderr)"
    )
    args = parser.parse_args(argv)

    prefix = f"mosis-bench-rt-{uuid.uuid4().hex[:8]}"
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "mosis.settings.production",
            "SECRET_KEY": "bench-secret-key-not-for-production-0123456789abcdef",
            "ALLOWED_HOSTS": "testserver",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            "CACHE_KEY_PREFIX": prefix,
            "BENCH_ENDPOINTS": "1",
            "STORAGE": "local",
            "SECURE_SSL_REDIRECT": "False",
            "LOG_LEVEL": "INFO" if args.logs else "WARNING",
        }
    )
    for name in ("AUTH", "READ", "WRITE", "UPLOAD", "TELEMETRY"):
        os.environ[f"RATE_LIMIT_{name}"] = "100000000/h"
    if args.no_rate_limits:
        os.environ["RATE_LIMITS_ENABLED"] = "False"

    import django

    django.setup()
    import redis
    from django.test import Client
    from redis.connection import AbstractConnection

    from store.models import AppListing

    package_id = AppListing.objects.filter(listed=True).values_list("app__package_id", flat=True).first()
    targets = {
        "floor": "/v1/_bench/floor",
        "listing": f"/v1/store/apps/{package_id}",
        "download redirect": f"/v1/store/apps/{package_id}/download?redirect=1",
    }
    trips = []
    real = AbstractConnection.send_packed_command

    def counting(self, command, *a, **kw):
        trips.append(1)
        return real(self, command, *a, **kw)

    AbstractConnection.send_packed_command = counting
    client = Client()
    print(
        f"rate limits {'off' if args.no_rate_limits else 'on'}, request log {'on' if args.logs else 'off'};"
        f" package {package_id}"
    )
    print("| target | status | Redis round trips | CPU µs per request: min | median |")
    print("| --- | --- | --- | --- | --- |")
    try:
        for name, path in targets.items():
            for _ in range(3):
                client.get(path)  # warm: stored document, download target, loaded scripts
            trips.clear()
            status = client.get(path).status_code
            one = len(trips)
            times = []
            for _ in range(args.repeat):
                started = time.process_time()
                client.get(path)
                times.append(time.process_time() - started)
            print(
                f"| {name} | {status} | {one} | {min(times) * 1e6:.0f} | {statistics.median(times) * 1e6:.0f} |"
            )
    finally:
        AbstractConnection.send_packed_command = real
        connection = redis.Redis.from_url(args.redis_url)
        keys = list(connection.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            connection.delete(*keys)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
