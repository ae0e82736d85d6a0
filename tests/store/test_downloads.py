"""Downloads: answers, redirects, local ranged file serving, dedupe per client/day, rollup and the 7-day window."""

import datetime as dt
import hashlib
import time

import pytest
from django.core.cache import cache

from apps.constants import AppStatus
from mosis.core import storage
from store.downloads.services import download_record, download_record_event, downloads_rollup
from store.models import AppListing, DownloadDaily, DownloadEvent
from versions.constants import VersionStatus

from .conftest import make_published_app, make_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]

PACKAGE = bytes(range(256)) * 40  # 10 240 bytes


def _app_with_file():
    app = make_published_app(versions=0)
    version = make_version(app, code=1, content=PACKAGE)
    from store.catalog.services.listing import listing_refresh

    listing_refresh(app_id=app.pk)
    return app, version


def test_latest_download_answer_has_integrity_fields(api_client):
    app = make_published_app(versions=2)
    body = api_client.get(f"/v1/store/apps/{app.package_id}/download").json()
    version = app.versions.get(version_code=2)
    assert body["version"] == "1.2.0" and body["version_code"] == 2
    assert body["sha256"] == version.sha256
    assert body["size"] == version.package_size
    assert body["signature"] == version.signature
    assert body["signing_key_fingerprint"] == version.signing_key_fingerprint
    assert "/v1/files/" in body["download_url"]


def test_latest_download_honours_mosis_version_and_skips_yanked(api_client):
    app = make_published_app(versions=0)
    make_version(app, code=1, min_mosis="1.0", max_mosis="1.9")
    make_version(app, code=2, min_mosis="2.0")
    make_version(app, code=3, min_mosis="1.0", yanked=True)
    url = f"/v1/store/apps/{app.package_id}/download"
    assert api_client.get(url, {"mosis_version": "1.5"}).json()["version_code"] == 1
    assert api_client.get(url).json()["version_code"] == 2
    assert api_client.get(url, {"mosis_version": "0.5"}).status_code == 404
    assert api_client.get(url, {"mosis_version": "x"}).status_code == 400


def test_exact_version_download_works_for_yanked_but_not_unpublished(api_client):
    app = make_published_app(versions=1)
    make_version(app, code=2, yanked=True)
    make_version(app, code=3, status=VersionStatus.APPROVED, published_ago_days=0)
    base = f"/v1/store/apps/{app.package_id}/versions"
    assert api_client.get(f"{base}/2/download").json()["version_code"] == 2
    assert api_client.get(f"{base}/3/download").status_code == 404
    assert api_client.get(f"{base}/99/download").status_code == 404
    assert api_client.get(f"{base}/99999999999999999999/download").status_code == 404


def test_downloads_of_hidden_apps_are_not_found(api_client):
    app = make_published_app(status=AppStatus.SUSPENDED)
    assert api_client.get(f"/v1/store/apps/{app.package_id}/download").status_code == 404
    unlisted = make_published_app(status=AppStatus.UNLISTED)
    assert api_client.get(f"/v1/store/apps/{unlisted.package_id}/download").status_code == 200


def test_redirect_1_answers_302_to_the_file(api_client):
    app, _ = _app_with_file()
    response = api_client.get(f"/v1/store/apps/{app.package_id}/versions/1/download", {"redirect": "1"})
    assert response.status_code == 302
    assert "/v1/files/" in response["Location"]
    file_response = api_client.get(response["Location"])
    assert file_response.status_code == 200
    assert b"".join(file_response.streaming_content) == PACKAGE


def test_local_file_download_streams_with_length_and_disposition(api_client):
    app, _ = _app_with_file()
    url = api_client.get(f"/v1/store/apps/{app.package_id}/download").json()["download_url"]
    response = api_client.get(url)
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(PACKAGE))
    assert response["Accept-Ranges"] == "bytes"
    assert f'filename="{app.package_id}-1.1.0.mpk"' in response["Content-Disposition"]
    assert (
        hashlib.sha256(b"".join(response.streaming_content)).hexdigest()
        == hashlib.sha256(PACKAGE).hexdigest()
    )


@pytest.mark.parametrize(
    "header, start, end",
    [
        ("bytes=0-99", 0, 99),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
        ("bytes=10200-99999", 10200, 10239),
    ],
)
def test_local_file_download_serves_a_range_with_206(api_client, header, start, end):
    app, _ = _app_with_file()
    url = api_client.get(f"/v1/store/apps/{app.package_id}/download").json()["download_url"]
    response = api_client.get(url, HTTP_RANGE=header)
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(PACKAGE)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert b"".join(response.streaming_content) == PACKAGE[start : end + 1]


@pytest.mark.parametrize("header", ["bytes=20000-", "bytes=500-100", "bytes=-0"])
def test_unsatisfiable_range_answers_416(api_client, header):
    app, _ = _app_with_file()
    url = api_client.get(f"/v1/store/apps/{app.package_id}/download").json()["download_url"]
    response = api_client.get(url, HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(PACKAGE)}"


def test_tampered_file_token_is_not_found(api_client):
    response = api_client.get("/v1/files/not-a-token")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "token", ["a.b.c", "é.1.ü", "x" * 3000, "...", "WyJhIiwiYiJd.zz.not-hex-expiry", "a" * 40 + ".ffffffff."]
)
def test_malformed_file_tokens_are_not_found(api_client, token):
    """Odd shapes, non-ASCII and oversized tokens are a clean 404, never a 500."""
    response = api_client.get(f"/v1/files/{token}")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Download link is invalid or expired."


def _token_of(url: str) -> str:
    return url.rsplit("/v1/files/", 1)[1]


@pytest.mark.parametrize("part", [0, 1, 2])
def test_file_token_with_any_part_altered_is_not_found(api_client, part):
    """Changing the payload (another file), the expiry (a longer life) or the MAC breaks the signature."""
    app, version = _app_with_file()
    token = _token_of(api_client.get(f"/v1/store/apps/{app.package_id}/download").json()["download_url"])
    pieces = token.split(".")
    other = storage.download_token("packages/someone-else.mpk", filename="x.mpk", expires=3600).split(".")
    pieces[part] = other[part] if part != 1 else f"{int(pieces[1], 16) + 86_400:x}"
    response = api_client.get(f"/v1/files/{'.'.join(pieces)}")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "Download link is invalid or expired."
    assert api_client.get(f"/v1/files/{token}").status_code == 200  # the untouched token still works


def test_file_token_expires_after_download_url_ttl(api_client, settings):
    app, version = _app_with_file()
    made = time.time() - settings.DOWNLOAD_URL_TTL - 1
    expired = storage.download_token(
        version.package_key, filename="a.mpk", expires=settings.DOWNLOAD_URL_TTL, now=made
    )
    response = api_client.get(f"/v1/files/{expired}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "NOT_FOUND"
    fresh = storage.download_token(version.package_key, filename="a.mpk", expires=settings.DOWNLOAD_URL_TTL)
    response = api_client.get(f"/v1/files/{fresh}")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PACKAGE
    assert response["Content-Disposition"] == 'attachment; filename="a.mpk"'


def test_file_token_survives_secret_rotation_through_fallbacks(api_client, settings):
    app, version = _app_with_file()
    url = api_client.get(f"/v1/store/apps/{app.package_id}/download").json()["download_url"]
    old_secret = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-for-the-rotation-test-0123456789"
    assert api_client.get(url).status_code == 404  # signed with a key the server no longer knows
    settings.SECRET_KEY_FALLBACKS = [old_secret]
    assert api_client.get(url).status_code == 200


def test_file_token_of_another_purpose_is_refused(api_client):
    """An upload token (another salt and format) never opens a download."""
    app, version = _app_with_file()
    upload = storage.presigned_upload(
        version.package_key, content_type="application/octet-stream", content_length=None, expires=3600
    )
    assert api_client.get(f"/v1/files/{upload.url.rsplit('/', 1)[1]}").status_code == 404


def test_download_counted_once_per_client_per_day(api_client):
    """An anonymous client is its IP: a new User-Agent on every request is not a new client."""
    app = make_published_app()
    url = f"/v1/store/apps/{app.package_id}/download"
    for _ in range(3):
        api_client.get(url, HTTP_USER_AGENT="editor/1.0")
    api_client.get(url, HTTP_USER_AGENT="other-agent/2.0")
    api_client.get(url, HTTP_USER_AGENT="editor/1.0", REMOTE_ADDR="10.0.0.9")
    assert downloads_rollup() == 2
    listing = AppListing.objects.get(app=app)
    assert (listing.downloads_total, listing.downloads_recent) == (2, 2)


def test_device_and_user_are_counted_as_clients(api_client, auth_client):
    from accounts.models import Device
    from accounts.tokens import hash_secret

    app = make_published_app()
    url = f"/v1/store/apps/{app.package_id}/download"
    token = "md_" + "d" * 40
    Device.objects.create(platform="mosis-os", mosis_version="1.5", token_hash=hash_secret(token))
    device_client = type(api_client)()
    device_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    device_client.get(url, REMOTE_ADDR="10.1.1.1")
    device_client.get(url, REMOTE_ADDR="10.2.2.2")  # same device from another network: still one
    auth_client.get(url)
    auth_client.get(url, HTTP_USER_AGENT="changed")  # same user: one
    assert downloads_rollup() == 2
    assert AppListing.objects.get(app=app).downloads_total == 2


def test_rollup_builds_daily_counts_and_seven_day_window():
    app = make_published_app(versions=2)
    v1, v2 = app.versions.order_by("version_code")
    today = dt.date(2026, 3, 10)
    folded = 0
    # Day by day, as the 5-minute rollup sees them (the Redis store keeps only the last few days open).
    for days_ago, version, clients in [(30, v1, 1), (7, v1, 4), (6, v2, 2), (0, v2, 3)]:
        day = today - dt.timedelta(days=days_ago)
        for n in range(clients):
            download_record(version=version, client_hash=f"client-{n}", day=day)
        download_record(version=version, client_hash="client-0", day=day)  # duplicate: not counted
        folded += downloads_rollup(today=day)
    assert folded == 10
    assert DownloadDaily.objects.get(version=v2, day=today).count == 3
    assert DownloadDaily.objects.get(version=v1, day=today - dt.timedelta(days=7)).count == 4
    listing = AppListing.objects.get(app=app)
    assert (listing.downloads_total, listing.downloads_recent) == (10, 5)

    # A second rollup adds only new events to the existing day rows.
    download_record(version=v2, client_hash="late", day=today)
    assert downloads_rollup(today=today) == 1
    assert DownloadDaily.objects.get(version=v2, day=today).count == 4
    assert downloads_rollup(today=today + dt.timedelta(days=1)) == 0
    listing.refresh_from_db()
    assert (listing.downloads_total, listing.downloads_recent) == (11, 4)


def test_the_rollup_moves_the_listing_and_leaves_browse_pages_cached(api_client):
    """A rollup renders the moved listings again and drops their listing variants, but never a list page:
    browse figures (and the popular order) lag by up to a page's freshness (docs/architecture.md, Caches)."""
    from store.tasks import rollup_downloads

    app = make_published_app()
    first = api_client.get("/v1/store/apps")
    assert first.json()["apps"][0]["download_count"] == 0
    variant = api_client.get(f"/v1/store/apps/{app.package_id}?mosis_version=1.0").json()
    assert variant["download_count"] == 0
    api_client.get(f"/v1/store/apps/{app.package_id}/download")
    assert rollup_downloads.delay().get() == 1
    assert api_client.get("/v1/store/apps")["ETag"] == first["ETag"]  # the stored page, untouched
    assert api_client.get(f"/v1/store/apps/{app.package_id}").json()["download_count"] == 1
    assert api_client.get(f"/v1/store/apps/{app.package_id}?mosis_version=1.0").json()["download_count"] == 1
    cache.clear()  # the page's freshness has passed
    item = api_client.get("/v1/store/apps").json()["apps"][0]
    assert (item["download_count"], item["downloads_recent"]) == (1, 1)


def test_download_query_count_is_bounded(api_client, django_assert_max_num_queries):
    app = make_published_app(versions=30)
    with django_assert_max_num_queries(3):
        assert api_client.get(f"/v1/store/apps/{app.package_id}/download").status_code == 200
    with django_assert_max_num_queries(3):
        assert api_client.get(f"/v1/store/apps/{app.package_id}/versions/7/download").status_code == 200


def test_rerunning_a_rollup_over_the_same_events_never_double_counts():
    app = make_published_app()
    version = app.versions.get()
    today = dt.date(2026, 3, 10)
    for n in range(4):  # events are folded on both stores (leftovers from before Redis was configured)
        download_record_event(version=version, client_hash=f"c{n}", day=today)
    downloads_rollup(today=today)
    DownloadEvent.objects.update(rolled_up=False)  # as if a crashed rollup left them pending
    assert downloads_rollup(today=today) == 4
    assert DownloadDaily.objects.get(version=version, day=today).count == 4
    assert AppListing.objects.get(app=app).downloads_total == 4


def test_rollup_query_count_does_not_grow_with_apps(django_assert_num_queries):
    today = dt.date(2026, 3, 10)

    def run(n_apps):
        for _ in range(n_apps):
            version = make_published_app().versions.get()
            download_record(version=version, client_hash="c", day=today)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            downloads_rollup(today=today)
        return len(ctx.captured_queries)

    assert run(1) == run(20)


def _publish_change(django_capture_on_commit_callbacks, app):
    from mosis.core.signals import send_catalog_changed

    with django_capture_on_commit_callbacks(execute=True):
        send_catalog_changed(app_id=app.pk, reason="versions")


def test_warm_download_redirect_runs_no_select(api_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    app, _ = _app_with_file()
    url = f"/v1/store/apps/{app.package_id}/download"
    assert api_client.get(url, {"redirect": "1"}, REMOTE_ADDR="10.0.0.1").status_code == 302  # cold
    for code_url in (url, f"/v1/store/apps/{app.package_id}/versions/1/download"):
        api_client.get(code_url, {"redirect": "1"}, REMOTE_ADDR="10.0.0.2")
        with CaptureQueriesContext(connection) as queries:
            response = api_client.get(code_url, {"redirect": "1"}, REMOTE_ADDR="10.0.0.3")
        assert response.status_code == 302 and "/v1/files/" in response["Location"]
        sql = [q["sql"] for q in queries.captured_queries]
        assert len(sql) <= 2 and not any(s.lstrip().upper().startswith("SELECT") for s in sql), sql
    # The presigned URL is made per request, never cached; every client is still counted once.
    assert downloads_rollup() == 3


def test_cached_download_follows_publish_yank_and_status_changes(
    api_client, django_capture_on_commit_callbacks
):
    app = make_published_app(versions=1)
    url = f"/v1/store/apps/{app.package_id}/download"
    assert api_client.get(url).json()["version_code"] == 1
    make_version(app, code=2)
    _publish_change(django_capture_on_commit_callbacks, app)
    assert api_client.get(url).json()["version_code"] == 2
    app.versions.filter(version_code=2).update(yanked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    _publish_change(django_capture_on_commit_callbacks, app)
    assert api_client.get(url).json()["version_code"] == 1
    assert api_client.get(f"{url}?mosis_version=1.0").json()["version_code"] == 1
    type(app).objects.filter(pk=app.pk).update(status=AppStatus.SUSPENDED)
    _publish_change(django_capture_on_commit_callbacks, app)
    assert api_client.get(url).status_code == 404
    assert api_client.get(f"/v1/store/apps/{app.package_id}/versions/1/download").status_code == 404


def test_not_found_downloads_are_not_cached(api_client, django_capture_on_commit_callbacks):
    app = make_published_app(versions=1)
    base = f"/v1/store/apps/{app.package_id}/versions"
    assert api_client.get(f"{base}/2/download").status_code == 404
    make_version(app, code=2)
    assert api_client.get(f"{base}/2/download").json()["version_code"] == 2


@pytest.mark.django_db(transaction=True)
def test_download_record_outside_a_transaction_commits_and_dedupes():
    """The PostgreSQL path (SET LOCAL synchronous_commit TO OFF in its own transaction) still dedupes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    app = make_published_app(versions=1)
    version = app.versions.get()
    today = dt.date(2026, 3, 10)
    with CaptureQueriesContext(connection) as queries:
        download_record_event(version=version, client_hash="a", day=today)
    download_record_event(version=version, client_hash="a", day=today)
    download_record_event(version=version, client_hash="b", day=today)
    assert DownloadEvent.objects.filter(app=app).count() == 2
    sql = [q["sql"] for q in queries.captured_queries]
    if connection.vendor == "postgresql":
        assert len(sql) == 1 and "set_config('synchronous_commit', 'off', true)" in sql[0]
        with connection.cursor() as cursor:  # SET LOCAL semantics: the session setting is untouched
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
