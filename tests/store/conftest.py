"""Store test helpers: published apps built straight from rows (no upload pipeline), then listing_refresh."""

from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.constants import AppStatus
from mosis.core import storage
from mosis.core.signals import send_catalog_changed
from store.catalog.services.listing import listing_refresh
from tests.factories import AppFactory
from versions.constants import VersionStatus, mosis_version_number
from versions.models import AppVersion

_counter = itertools.count(1)


def make_version(
    app,
    *,
    code: int,
    name: str | None = None,
    status=VersionStatus.PUBLISHED,
    min_mosis="",
    max_mosis="",
    yanked=False,
    published_ago_days: int = 0,
    content: bytes | None = None,
    **fields,
) -> AppVersion:
    """A version row; with ``content`` the package bytes are really written to package storage."""
    key = f"apps/{app.pk}/{code}-{next(_counter)}.mpk"
    body = content if content is not None else f"package {app.package_id} {code}".encode()
    if content is not None:
        storage.put_bytes(key, content)
    published_at = (
        timezone.now() - timedelta(days=published_ago_days) if status == VersionStatus.PUBLISHED else None
    )
    return AppVersion.objects.create(
        app=app,
        version_code=code,
        version_name=name or f"1.{code}.0",
        status=status,
        package_key=key,
        package_size=len(body),
        sha256=hashlib.sha256(body).hexdigest(),
        signature="c2lnbmF0dXJl",
        signing_key_fingerprint="ab" * 32,
        min_mosis_version=min_mosis,
        max_mosis_version=max_mosis,
        min_mosis_num=mosis_version_number(min_mosis or None),
        max_mosis_num=mosis_version_number(max_mosis or None),
        published_at=published_at,
        yanked_at=timezone.now() if yanked else None,
        **{"release_notes": f"Notes for {code}", **fields},
    )


def make_published_app(*, versions: int = 1, status=AppStatus.PUBLISHED, refresh: bool = True, **app_fields):
    """A published app with ``versions`` published versions (codes 1..n); its listing row is refreshed."""
    app = AppFactory(status=status, **app_fields)
    for code in range(1, versions + 1):
        make_version(app, code=code)
    if refresh:
        listing_refresh(app_id=app.pk)
    return app


@pytest.fixture
def published_app(db):
    return make_published_app()


@pytest.fixture
def changed(django_capture_on_commit_callbacks):
    """Send catalog_changed as writers do (after commit) and run the receivers: ``changed(app, reason)``."""

    def send(app, reason):
        with django_capture_on_commit_callbacks(execute=True):
            send_catalog_changed(app_id=app.pk, reason=reason)

    return send


@pytest.fixture
def redis_round_trips(monkeypatch):
    """The commands each write to Redis carried, as a list per round trip (a pipeline is one round trip
    holding several): counted on the wire, under redis-py's client layers and the lean script calls alike.
    Skips on the embedded local-memory cache."""
    from mosis.core import redis as redis_adapter

    if not redis_adapter.enabled():
        pytest.skip("the embedded local-memory cache has no round trips")
    from redis.connection import AbstractConnection

    trips: list[list[str]] = []
    real = AbstractConnection.send_packed_command

    def sending(self, command, *args, **kwargs):
        packet = b"".join(command) if isinstance(command, list | tuple) else command
        trips.append(_command_names(bytes(packet)))
        return real(self, command, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", sending)
    return trips


def _command_names(packet: bytes) -> list[str]:
    """The first word of each RESP array in ``packet`` (``*<n>\\r\\n$<len>\\r\\n<NAME>\\r\\n...``)."""
    names, position = [], 0
    while position < len(packet) and packet[position : position + 1] == b"*":
        count_end = packet.index(b"\r\n", position)
        count = int(packet[position + 1 : count_end])
        position = count_end + 2
        for index in range(count):
            length_end = packet.index(b"\r\n", position)
            length = int(packet[position + 1 : length_end])
            if index == 0:
                names.append(packet[length_end + 2 : length_end + 2 + length].decode().upper())
            position = length_end + 2 + length + 2
    return names


def read_catalog(response) -> dict:
    """The JSON of a catalog answer: streamed (a file) or rendered (a delta, an error), gzip undone."""
    import gzip
    import json

    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return json.loads(body)


@pytest.fixture
def catalog_built(db, settings):
    """Build the served catalog of the test client's host through the worker's service (never a request);
    call it again after changes: ``catalog_built()`` returns the new document's row."""
    from store.catalog.services.document import catalog_rebuild
    from store.models import CatalogDocument

    settings.CATALOG_META_MEMO_SECONDS = 0

    def build(base: str = "http://testserver"):
        catalog_rebuild(base)
        return CatalogDocument.objects.get(base_url=base)

    build()
    return build
