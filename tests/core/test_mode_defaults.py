"""SPEC §2 and issue 20 §5: signatures are required in every mode, and without Redis the cache is one every
process shares. Each settings module is loaded in a fresh interpreter with nothing configured but what the
mode itself requires."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps({'require_signature': settings.REQUIRE_SIGNATURE, "
    "'cache': settings.CACHES['default']['BACKEND'], 'periodic': settings.PERIODIC_IN_PROCESS}))"
)


def _settings_of(module: str, **extra) -> dict:
    env = {
        k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR") or k.startswith("LC_")
    }
    env.update(DJANGO_SETTINGS_MODULE=module, **extra)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "module, extra",
    [
        ("mosis.settings.local", {}),
        ("mosis.settings.test", {}),
        ("mosis.settings.production", {"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "store.example.com"}),
    ],
)
def test_signatures_are_required_in_every_mode(module, extra):
    assert _settings_of(module, **extra)["require_signature"] is True


def test_the_embedded_mode_shares_one_cache_and_runs_periodic_work_itself():
    embedded = _settings_of("mosis.settings.local")
    assert embedded["cache"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert embedded["periodic"] is True
    with_services = _settings_of(
        "mosis.settings.local",
        REDIS_URL="redis://127.0.0.1:6379/0",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/1",
    )
    assert with_services["cache"] == "mosis.core.cache.RedisCache"
    assert with_services["periodic"] is False  # a real beat runs the schedule
