"""Operator commands on the store side: export_catalog (SPEC §10; rollup_stats is telemetry's)."""

import gzip
import json

import pytest
from django.core.management import CommandError, call_command

from tests.store.conftest import make_published_app, read_catalog

pytestmark = pytest.mark.django_db


def test_export_catalog_writes_the_same_document_as_the_api(api_client, tmp_path):
    app = make_published_app(package_id="com.example.exported", name="Exported")
    out = tmp_path / "catalog.json.gz"
    call_command("export_catalog", "--output", str(out), "--gzip")
    document = json.loads(gzip.decompress(out.read_bytes()))
    api = read_catalog(api_client.get("/v1/store/catalog"))
    assert document["count"] == api["count"] == 1
    assert [a["package_id"] for a in document["apps"]] == [app.package_id]


def test_export_catalog_refuses_a_directory(tmp_path):
    with pytest.raises(CommandError, match="is a directory"):
        call_command("export_catalog", "--output", str(tmp_path))
