"""gunicorn settings of the store's web processes: ``gunicorn --config python:mosis.gunicorn_config mosis.wsgi``.

The image's ``CMD`` and ``bench/load.py`` start gunicorn with it; command-line flags (workers, threads, bind)
still override anything here.

Why a hook: a loaded worker holds ~140 000 long-lived objects (modules, URL patterns, serializer classes,
settings). CPython's cyclic collector walks every one of them on each full (generation 2) collection, with
the GIL held, so every thread of that worker stalls meanwhile: 100-350 ms per collection under load, a few
collections per worker per minute of traffic. Those stalls *were* the p99 of every endpoint, the framework
floor included (docs/performance.md, "Fourth round"). After the application is loaded each worker imports
what requests would otherwise import lazily, collects once and moves everything left into the collector's
permanent generation (``gc.freeze()``): later collections only walk objects made while serving.
"""

from __future__ import annotations

import gc
import importlib
import logging
import pkgutil
from pathlib import Path

logger = logging.getLogger("mosis.gunicorn")

# Sub-packages a request never imports: migrations, management commands, tests.
_SKIPPED_PARTS = frozenset({"migrations", "management", "tests"})
# Client libraries Django's backends import only when first used (the Redis cache imports django-redis and
# redis-py, ~15 000 objects, on its first call): imported here when installed. The S3 client (boto3, ~23 MB)
# only with S3.
_LAZY_LIBRARIES = ("redis", "redis.connection", "hiredis", "django_redis.client.default", "psycopg", "kombu")
_S3_LIBRARIES = ("botocore.client", "boto3", "storages.backends.s3")


def import_project_modules() -> int:
    """Import every module of the project's own apps, the URLconf and the backends' client libraries now,
    not on some first request.

    Returns how many modules were imported; a module that fails to import is logged and skipped (the
    request that needs it reports the error as before).
    """
    from django.apps import apps
    from django.conf import settings
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - imports every view, serializer and the DRF machinery
    base = Path(settings.BASE_DIR)
    imported = 0
    for config in apps.get_app_configs():
        path = Path(config.path)
        if (
            not path.is_relative_to(base)
            or "site-packages" in path.parts
            or not hasattr(config.module, "__path__")
        ):
            continue  # a third-party app: the URLconf already imported what it serves
        imported += _import_tree(config.name, config.module.__path__)
    libraries = _LAZY_LIBRARIES + (_S3_LIBRARIES if settings.STORAGE_BACKEND == "s3" else ())
    for name in libraries:
        try:
            importlib.import_module(name)
            imported += 1
        except ImportError:
            continue  # not installed: nothing will import it later either
    return imported


def _import_tree(package: str, paths) -> int:
    imported = 0
    for info in pkgutil.iter_modules(paths, prefix=f"{package}."):
        if info.name.rsplit(".", 1)[-1] in _SKIPPED_PARTS:
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - warming up must never stop a worker from serving
            logger.warning("could not import %s while warming up the worker", info.name, exc_info=True)
            continue
        imported += 1
        if info.ispkg:
            imported += _import_tree(info.name, module.__path__)
    return imported


def freeze_startup_objects() -> int:
    """Warm up imports, collect, then ``gc.freeze()``: returns how many objects were frozen."""
    import_project_modules()
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def post_worker_init(worker) -> None:
    """gunicorn hook: runs in each worker after the WSGI application is loaded, before it serves."""
    frozen = freeze_startup_objects()
    worker.log.debug("froze %d startup objects out of the cyclic collector's reach", frozen)
