"""Test settings: the embedded defaults unless CI exported DATABASE_URL / REDIS_URL / CELERY_BROKER_URL."""

import os

from .base import *  # noqa: F403
from .base import CACHES, env

SECRET_KEY = "test-secret-key-not-for-production-0123456789"
SIMPLE_JWT["SIGNING_KEY"] = SECRET_KEY  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
# Tasks run in-process so a test sees their effect; the broker is still checked by /v1/health.
CELERY_TASK_ALWAYS_EAGER = True
# Each test run gets its own cache namespace so parallel runs on one Redis do not see each other, and, with
# the embedded file-based cache, its own folder (clearing a file cache empties its whole folder).
CACHES["default"]["KEY_PREFIX"] = f"mosis-test-{os.getpid()}"
if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):
    CACHES["default"]["LOCATION"] = f"/tmp/mosis-test-cache-{os.getpid()}"
# Tests that need the in-process beat start it themselves (tests/core/test_periodic.py).
PERIODIC_IN_PROCESS = False
MEDIA_ROOT = env("MEDIA_ROOT", default=f"/tmp/mosis-test-media-{os.getpid()}")
STORAGES["packages"]["OPTIONS"]["location"] = (  # noqa: F405
    "packages" if STORAGE_BACKEND == "s3" else f"{MEDIA_ROOT}/packages"  # noqa: F405
)
LOG_FORMAT = "text"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405

# The test client's host: the stored listing documents name it, as they name 127.0.0.1:8000 under `make run`.
DEFAULT_SITE_URL = "http://testserver"
