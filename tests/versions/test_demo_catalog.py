"""``seed_demo``'s catalog: real signed packages through the real pipeline, idempotent."""

from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.core.management import call_command
from rest_framework.test import APIClient

from apps.models import App
from versions.constants import VersionStatus
from versions.demo import DEMO_CATALOG
from versions.models import AppVersion

pytestmark = pytest.mark.django_db


def test_seed_demo_publishes_a_signed_catalog_once(capsys, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        call_command("seed_demo")
    assert callbacks  # decisions, catalog updates and validations ran after commit
    apps = App.objects.filter(package_id__in=[a.package_id for a in DEMO_CATALOG])
    assert apps.count() == len(DEMO_CATALOG) >= 12
    assert set(apps.values_list("status", flat=True)) == {"published"}
    assert {a.type for a in apps} >= {"app", "extension", "theme"}
    assert apps.exclude(category=None).count() == apps.count()
    versions = AppVersion.objects.filter(app__in=apps)
    expected = sum(len(a.versions) for a in DEMO_CATALOG)
    assert versions.count() == expected
    assert set(versions.values_list("status", flat=True)) == {VersionStatus.PUBLISHED}
    assert all(v.signature and v.signing_key_id and v.sha256 and v.icon_key for v in versions)
    notes = versions.get(app__package_id="com.mosis.notes", version_code=3)
    assert notes.dependencies == {"com.mosis.sync": "^1.0.0"}
    assert notes.dependency_rules == {
        "com.mosis.sync": {
            "optional": True,
            "default": True,
            "description": "Syncs your notes across devices.",
            "config": {},
        }
    }
    assert notes.languages == ["de", "en", "fr"]
    assert "published now" in capsys.readouterr().out
    assert mail.outbox == []  # the demo reviewer's decisions do not flood the console

    # Demo apps set no icon_url of their own: the store shows each one's packaged icon, served as PNG.
    store = {a["package_id"]: a for a in APIClient().get("/v1/store/apps?limit=100").json()["apps"]}
    icon = urlsplit(store["com.mosis.notes"]["icon_url"]).path
    assert icon == "/v1/store/apps/com.mosis.notes/versions/3/icon"
    assert all(app["icon_url"] for app in store.values())
    response = APIClient().get(icon)
    assert response.status_code == 200 and response.content.startswith(b"\x89PNG\r\n\x1a\n")

    call_command("seed_demo")
    assert AppVersion.objects.filter(app__in=apps).count() == expected
    assert f"0 version(s) published now, {expected} already there" in capsys.readouterr().out
