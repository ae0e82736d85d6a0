"""Validation metrics (versions.metrics): each run counted by outcome, its duration observed."""

import pytest
from prometheus_client import REGISTRY

from mosis.core import storage
from tests.factories import AppFactory
from tests.versions.pipeline import create_version, manifest_for, package_bytes, signed_completion
from versions import services
from versions.models import AppVersion
from versions.tasks import validate_version_task

pytestmark = pytest.mark.django_db


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0


def validating_version(client, app, data, code: int) -> AppVersion:
    created = create_version(
        client, app, version_code=code, version_name=f"1.{code}.0", size=len(data)
    ).json()
    version = AppVersion.objects.get(pk=created["version"]["id"])
    storage.put_bytes(version.upload_key, data)
    # The task is not run yet.
    services.version_upload_complete(version=version, actor=app.owner, **signed_completion(app.owner, data))
    return version


def test_validations_are_counted_by_outcome_and_timed(auth_client, user, no_ratelimits):
    app = AppFactory(owner=user, package_id="com.example.measured")
    before = {
        outcome: value("mosis_validations_total", outcome=outcome)
        for outcome in ("draft", "rejected", "skipped")
    }
    runs = value("mosis_validation_seconds_count")
    good = validating_version(auth_client, app, package_bytes(manifest_for(app, version_name="1.1.0")), 1)
    bad = validating_version(auth_client, app, b"not a zip archive", 2)
    assert validate_version_task.apply(args=[str(good.id)]).get() == "draft"
    assert validate_version_task.apply(args=[str(bad.id)]).get() == "rejected"
    assert validate_version_task.apply(args=["6d1f7a43-0d55-4a3e-b8a6-2d5f8f2c3d11"]).get() is None
    assert value("mosis_validations_total", outcome="draft") == before["draft"] + 1
    assert value("mosis_validations_total", outcome="rejected") == before["rejected"] + 1
    assert value("mosis_validations_total", outcome="skipped") == before["skipped"] + 1
    assert value("mosis_validation_seconds_count") == runs + 3
