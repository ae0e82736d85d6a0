"""Seed 004's registry metrics on ``/metrics``, read when Prometheus scrapes (docs/operations.md, Metrics).

* ``cache_hits_total`` / ``cache_misses_total``: the public store read caches' hit and miss counters
  (``store.catalog.services.cache``: counted in the shared cache as every process hits or misses, so one scrape of
  any process reports the whole fleet's exact figures, the ones ``/v1/cache/stats`` shows).
* ``extensions_total{type, status}``: apps by type and status (one ``GROUP BY`` query).

Both are read at most once per ``CACHE_SECONDS`` per process; a cache or database that cannot answer
leaves that metric out of the scrape rather than failing it (``/v1/health`` reports the outage).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

logger = logging.getLogger("mosis.metrics")

CACHE_SECONDS = 15.0


def extension_counts() -> dict[tuple[str, str], int]:
    """{(type, status): apps}."""
    from django.db.models import Count

    from apps.models import App

    rows = App.objects.order_by().values_list("type", "status").annotate(n=Count("id"))
    return {(app_type, status): n for app_type, status, n in rows}


def cache_counters() -> tuple[int, int]:
    """(hits, misses) of the store read caches."""
    from store.catalog.services.cache import store_cache_stats

    stats = store_cache_stats()
    return stats["hits"], stats["misses"]


class StoreCollector(Collector):
    def __init__(self):
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._cache: tuple[int, int] | None = None
        self._extensions: dict[tuple[str, str], int] | None = None

    def _read(self, what) -> object | None:
        try:
            return what()
        except Exception:  # noqa: BLE001 - an outage must not fail the scrape
            logger.info("store metric unavailable: %s failed", what.__name__, exc_info=True)
            return None

    def _current(self):
        with self._lock:
            if time.monotonic() - self._read_at >= CACHE_SECONDS:
                self._cache = self._read(cache_counters)
                self._extensions = self._read(extension_counts)
                self._read_at = time.monotonic()
            return self._cache, self._extensions

    def collect(self):
        counters, extensions = self._current()
        if counters is not None:
            hits, misses = counters
            yield CounterMetricFamily("cache_hits", "Hits of the public store read caches.", value=hits)
            yield CounterMetricFamily("cache_misses", "Misses of the public store read caches.", value=misses)
        if extensions is not None:
            family = GaugeMetricFamily(
                "extensions_total", "Apps by type and status.", labels=["type", "status"]
            )
            for (app_type, status), count in sorted(extensions.items()):
                family.add_metric([app_type, status], count)
            yield family

    def describe(self):
        return []  # collected lazily: registering must not touch the database or the cache


STORE_METRICS = StoreCollector()

with contextlib.suppress(ValueError):  # already registered (imported twice in one process)
    REGISTRY.register(STORE_METRICS)
