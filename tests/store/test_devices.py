"""Devices (SPEC §5, seed 002): installed set, update checks with the disabled list, device-token auth."""

import pytest

from apps.constants import AppStatus
from store.models import DeviceApp
from tests.factories import community_device, community_published_app, community_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


@pytest.fixture
def device():
    return community_device(mosis_version="1.5")


@pytest.fixture
def client(api_client, device):
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {device[1]}")
    return api_client


def put_apps(client, apps):
    return client.put("/v1/devices/me/apps", {"apps": apps}, format="json")


def updates(client, body=None):
    return client.post("/v1/devices/me/updates", body or {}, format="json")


# --- auth ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/v1/devices/me/apps"),
        ("put", "/v1/devices/me/apps"),
        ("post", "/v1/devices/me/updates"),
        ("post", "/v1/devices/me/plan?dryrun=1"),
    ],
)
def test_device_endpoints_need_a_device_token(api_client, auth_client, method, path):
    anonymous = getattr(api_client, method)(path, {}, format="json")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "UNAUTHORIZED"
    as_user = getattr(auth_client, method)(path, {}, format="json")
    assert as_user.status_code == 403
    assert as_user.json()["error"]["code"] == "FORBIDDEN"
    api_client.credentials(HTTP_AUTHORIZATION="Bearer md_not-a-real-token")
    assert getattr(api_client, method)(path, {}, format="json").status_code == 401


def test_a_revoked_device_token_is_refused(client, device):
    from django.utils import timezone

    device[0].revoked_at = timezone.now()
    device[0].save()
    assert client.get("/v1/devices/me/apps").status_code == 401


# --- installed set ------------------------------------------------------------------------------------------
def test_the_installed_set_is_replaced_and_read_back(client, device):
    first = put_apps(
        client,
        [{"package_id": "com.test.a", "version_code": 3}, {"package_id": "com.test.b", "version_code": 1}],
    )
    assert first.status_code == 200, first.json()
    assert [(a["package_id"], a["version_code"]) for a in first.json()["apps"]] == [
        ("com.test.a", 3),
        ("com.test.b", 1),
    ]
    put_apps(
        client,
        [{"package_id": "com.test.b", "version_code": 2}, {"package_id": "com.test.c", "version_code": 7}],
    )
    listed = client.get("/v1/devices/me/apps").json()["apps"]
    assert [(a["package_id"], a["version_code"]) for a in listed] == [("com.test.b", 2), ("com.test.c", 7)]
    assert DeviceApp.objects.filter(device=device[0]).count() == 2
    assert put_apps(client, []).json() == {"apps": []}


def test_each_device_has_its_own_set(client, api_client):
    put_apps(client, [{"package_id": "com.test.a", "version_code": 3}])
    other, token = community_device()
    from rest_framework.test import APIClient

    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert other_client.get("/v1/devices/me/apps").json() == {"apps": []}


@pytest.mark.parametrize(
    "apps, field",
    [
        ([{"package_id": "com.test.a"}], "apps.0.version_code"),
        ([{"package_id": "com.test.a", "version_code": 0}], "apps.0.version_code"),
        ([{"version_code": 1}], "apps.0.package_id"),
        ([{"package_id": "x" * 151, "version_code": 1}], "apps.0.package_id"),
        ([{"package_id": "com.test.a", "version_code": 1}] * 2, "apps"),
        ([{"package_id": f"com.test.a{i}", "version_code": 1} for i in range(1001)], "apps"),
        ("not a list", "apps"),
    ],
)
def test_bad_installed_sets_are_refused(client, apps, field):
    response = put_apps(client, apps)
    assert response.status_code == 400
    assert any(key == field or key.startswith(f"{field}.") for key in response.json()["error"]["details"])


def test_the_biggest_installed_set_is_stored_with_bulk_queries(client, django_assert_max_num_queries):
    apps = [{"package_id": f"com.test.a{i}", "version_code": i + 1} for i in range(1000)]
    # auth (2), savepoint, delete, batched inserts (SQLite: 250 rows a batch), release, read back with the
    # store's view (the rows, their apps; no app is known so no versions): never one query per item.
    with django_assert_max_num_queries(13):
        response = put_apps(client, apps)
    assert response.status_code == 200
    assert len(response.json()["apps"]) == 1000


# --- updates -------------------------------------------------------------------------------------------------
def test_updates_offer_the_newest_compatible_version(client):
    app = community_published_app("com.test.notes", versions=("1.0.0", "1.1.0"))
    community_version(app, "1.2.0", min_mosis="1.0", max_mosis="1.9")
    community_version(app, "2.0.0", min_mosis="2.0")  # too new for this device (1.5)
    community_version(app, "1.3.0", yanked=True)
    community_version(app, "1.4.0", status="review")
    put_apps(client, [{"package_id": "com.test.notes", "version_code": 10000}])
    response = updates(client)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["disabled"] == []
    assert len(body["updates"]) == 1
    update = body["updates"][0]
    assert update["package_id"] == "com.test.notes"
    assert update["installed_version_code"] == 10000
    assert (update["version"], update["version_code"]) == ("1.2.0", 10200)
    download = update["download"]
    assert download["version_code"] == 10200
    assert download["sha256"] == "ab" * 32
    assert download["download_url"]


def test_no_update_when_the_newest_is_installed(client):
    community_published_app("com.test.notes", versions=("1.0.0", "1.1.0"))
    put_apps(client, [{"package_id": "com.test.notes", "version_code": 10100}])
    assert updates(client).json() == {"updates": [], "disabled": []}


def test_the_staff_max_mosis_override_caps_updates(client):
    community_published_app("com.test.capped", versions=("1.0.0", "1.1.0"), max_mosis_version_override="1.4")
    put_apps(client, [{"package_id": "com.test.capped", "version_code": 10000}])
    assert updates(client).json()["updates"] == []


def test_disabled_apps_are_listed_to_turn_off_but_pending_disable_is_not(client):
    community_published_app("com.test.bad", versions=("1.0.0", "1.1.0"), status=AppStatus.DISABLED)
    community_published_app("com.test.pending", versions=("1.0.0", "1.1.0"), status=AppStatus.PENDING_DISABLE)
    community_published_app("com.test.suspended", versions=("1.0.0", "1.1.0"), status=AppStatus.SUSPENDED)
    community_published_app("com.test.hidden", versions=("1.0.0", "1.1.0"), status=AppStatus.UNLISTED)
    installed = [
        {"package_id": p, "version_code": 10000}
        for p in (
            "com.test.bad",
            "com.test.pending",
            "com.test.suspended",
            "com.test.hidden",
            "com.test.unknown",
        )
    ]
    body = updates(client, {"apps": installed}).json()
    assert body["disabled"] == ["com.test.bad"]
    assert [u["package_id"] for u in body["updates"]] == ["com.test.hidden"]  # unlisted still updates


def test_a_body_overrides_the_stored_set_without_storing_it(client, device):
    community_published_app("com.test.notes", versions=("1.0.0", "1.1.0"))
    put_apps(client, [{"package_id": "com.test.notes", "version_code": 10100}])
    body = updates(client, {"apps": [{"package_id": "com.test.notes", "version_code": 10000}]}).json()
    assert [u["version_code"] for u in body["updates"]] == [10100]
    assert DeviceApp.objects.get(device=device[0]).version_code == 10100


@pytest.mark.parametrize("count", [1, 25])
def test_the_update_check_query_count_does_not_grow(client, device, django_assert_num_queries, count):
    rows = []
    for i in range(count):
        community_published_app(f"com.test.app{i}", versions=("1.0.0", "1.1.0"))
        rows.append({"package_id": f"com.test.app{i}", "version_code": 10000})
    community_published_app("com.test.off", versions=("1.0.0",), status=AppStatus.DISABLED)
    rows.append({"package_id": "com.test.off", "version_code": 10000})
    put_apps(client, rows)
    # device auth, the installed set, apps with their newest version id, those versions.
    with django_assert_num_queries(4):
        body = updates(client).json()
    assert len(body["updates"]) == count
    assert body["disabled"] == ["com.test.off"]


def test_a_device_with_an_unparsable_mosis_version_is_not_filtered(api_client):
    device, token = community_device(mosis_version="nightly")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    app = community_published_app("com.test.notes", versions=("1.0.0",))
    community_version(app, "2.0.0", min_mosis="9.0")
    body = updates(api_client, {"apps": [{"package_id": "com.test.notes", "version_code": 10000}]}).json()
    assert [u["version"] for u in body["updates"]] == ["2.0.0"]
