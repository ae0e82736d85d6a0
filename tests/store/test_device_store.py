"""A device's view of the store (seed 002): one app as ApiAppAvailableFull, its reported apps with the store's
view of each, the config it reports and the plans that check it, optional dependencies through HTTP."""

import pytest

from apps.constants import AppStatus
from tests.factories import community_device, community_published_app, community_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]

NOTES, SYNC, MAPS, FONTS, GHOST = (
    "com.test.notes",
    "com.test.sync",
    "com.test.maps",
    "com.test.fonts",
    "com.test.ghost",
)


@pytest.fixture
def client(api_client):
    _, token = community_device(mosis_version="1.5")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def report(client, apps):
    response = client.put("/v1/devices/me/apps", {"apps": apps}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def store_view(client, package_id):
    return client.get(f"/v1/devices/me/store/apps/{package_id}")


def notes_with_requirements():
    """Notes 1.1.0 needs sync ^2 configured with sync=true, may use maps (optional), and fonts by default."""
    community_published_app(
        SYNC, versions=("1.0.0", "2.0.0", "2.3.0"), name="Sync", icon_url="https://cdn.test/s.png"
    )
    community_published_app(MAPS, versions=("1.0.0",), name="Maps")
    community_published_app(FONTS, versions=("1.0.0",), name="Fonts")
    notes = community_published_app(
        NOTES, versions=("1.0.0",), name="Notes", description="Write things down."
    )
    community_version(
        notes,
        "1.1.0",
        dependencies={SYNC: "^2.0.0", MAPS: "^1.0.0", FONTS: "^1.0.0"},
        dependency_rules={
            SYNC: {
                "optional": False,
                "default": True,
                "description": "Keeps notes in sync.",
                "config": {"sync": True},
            },
            MAPS: {"optional": True, "default": False, "description": "Notes on a map.", "config": {}},
            FONTS: {"optional": True, "default": True, "description": "", "config": {}},
        },
    )
    community_version(notes, "2.0.0", min_mosis="2.0")  # not installable on a 1.5 device
    from store.catalog.services.listing import listing_refresh

    listing_refresh(app_id=notes.pk)
    return notes


# --- GET /v1/devices/me/store/apps/{package_id} ---------------------------------------------------------------
def test_an_app_not_installed_shows_its_newest_compatible_version_and_missing_requirements(client):
    notes_with_requirements()
    response = store_view(client, NOTES)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["id"] == NOTES and body["title"] == "Notes"
    assert body["status"] == "not_installed"
    assert (body["version_installed"], body["version_code_installed"]) == (None, None)
    assert (body["version_latest"], body["version_code_latest"]) == ("1.1.0", 10100)
    assert body["versions"] == ["1.1.0", "1.0.0"]
    assert body["description_short"] == "Write things down."
    assert body["release_notes"] == "Release 1.1.0"
    requirements = {r["id"]: r for r in body["requirements"]}
    assert list(requirements) == [FONTS, MAPS, SYNC]
    assert requirements[SYNC] == {
        "id": SYNC,
        "title": "Sync",
        "icon_url": "https://cdn.test/s.png",
        "optional": False,
        "default": True,
        "version_spec": "^2.0.0",
        "description": "Keeps notes in sync.",
        "config": {"sync": True},
        "violation": {
            "package_id": SYNC,
            "name": "missing",
            "required_by": NOTES,
            "version_spec": "^2.0.0",
            "suggested_version": "2.3.0",
            "status": "published",
            "message": requirements[SYNC]["violation"]["message"],
            "rule_violations": None,
            "required_config": None,
            "auto_configurable": None,
        },
    }
    # Optional dependencies that are not installed stand in nobody's way.
    assert requirements[MAPS]["violation"] is None and requirements[MAPS]["optional"] is True
    assert requirements[MAPS]["default"] is False
    assert requirements[FONTS]["violation"] is None and requirements[FONTS]["default"] is True


def test_violations_are_computed_against_what_the_device_reported(client):
    notes_with_requirements()
    report(
        client,
        [
            {"package_id": NOTES, "version_code": 10000},
            {"package_id": SYNC, "version_code": 20000, "config": {"sync": False}},
            {"package_id": MAPS, "version_code": 10000},
        ],
    )
    body = store_view(client, NOTES).json()
    assert body["status"] == "update_available"
    assert (body["version_installed"], body["version_latest"]) == ("1.0.0", "1.1.0")
    violations = {r["id"]: r["violation"] for r in body["requirements"]}
    assert violations[MAPS] is None
    assert violations[SYNC]["name"] == "incompatible-config"
    assert violations[SYNC]["rule_violations"] == ["sync is false: set it to true"]
    assert violations[SYNC]["required_config"] == {"sync": True}
    assert violations[SYNC]["auto_configurable"] is False

    report(
        client,
        [
            {"package_id": NOTES, "version_code": 10100},
            {"package_id": SYNC, "version_code": 10000, "config": {"sync": True}},
        ],
    )
    body = store_view(client, NOTES).json()
    assert body["status"] == "installed"
    sync = next(r for r in body["requirements"] if r["id"] == SYNC)
    assert (sync["violation"]["name"], sync["violation"]["suggested_version"]) == (
        "incompatible-version",
        "2.3.0",
    )


def test_a_disabled_dependency_is_an_incompatible_status(client):
    community_published_app(SYNC, versions=("2.0.0",), status=AppStatus.DISABLED)
    community_published_app(NOTES, versions=(("1.0.0", {SYNC: "^2", GHOST: "^1"}),))
    requirements = {r["id"]: r for r in store_view(client, NOTES).json()["requirements"]}
    assert (requirements[SYNC]["violation"]["name"], requirements[SYNC]["violation"]["status"]) == (
        "incompatible-status",
        "disabled",
    )
    ghost = requirements[GHOST]
    assert (ghost["title"], ghost["icon_url"]) == (GHOST, "")  # the store does not describe it
    assert (ghost["violation"]["name"], ghost["violation"]["suggested_version"]) == ("missing", None)


def test_an_app_without_a_version_for_this_device_is_incompatible(client):
    app = community_published_app(NOTES, versions=())
    community_version(app, "2.0.0", min_mosis="2.0")
    from store.catalog.services.listing import listing_refresh

    listing_refresh(app_id=app.pk)
    body = store_view(client, NOTES).json()
    assert body["status"] == "incompatible"
    assert body["version_latest"] is None and body["versions"] == [] and body["requirements"] == []


@pytest.mark.parametrize("status", [AppStatus.DRAFT, AppStatus.SUSPENDED, AppStatus.DISABLED])
def test_unknown_and_hidden_apps_are_a_404_in_the_error_format(client, status):
    community_published_app(NOTES, status=status)
    for package_id in (NOTES, GHOST):
        response = store_view(client, package_id)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"


def test_the_device_view_needs_a_device_token(api_client, auth_client):
    community_published_app(NOTES)
    assert store_view(api_client, NOTES).status_code == 401
    assert store_view(auth_client, NOTES).status_code == 403


def test_the_device_view_runs_a_bounded_number_of_queries(client, django_assert_num_queries):
    notes_with_requirements()
    report(client, [{"package_id": SYNC, "version_code": 20000}, {"package_id": MAPS, "version_code": 10000}])
    # the device token, the app, the reported set, two dependency layers (apps + versions each), the faces.
    with django_assert_num_queries(8):
        assert store_view(client, NOTES).status_code == 200


# --- GET /v1/devices/me/apps ---------------------------------------------------------------------------------
def test_the_reported_apps_carry_the_stores_view_of_each(client):
    notes = community_published_app(NOTES, versions=("1.0.0", "1.1.0"))
    community_version(notes, "1.2.0", yanked=True)
    community_version(notes, "2.0.0", min_mosis="2.0")
    community_published_app(SYNC, versions=("1.0.0",), status=AppStatus.DISABLED)
    community_published_app(MAPS, versions=("1.0.0",), status=AppStatus.DRAFT)
    report(
        client,
        [
            {"package_id": NOTES, "version_code": 10200, "config": {"theme": "dark"}},
            {"package_id": SYNC, "version_code": 10000},
            {"package_id": MAPS, "version_code": 10000},
            {"package_id": GHOST, "version_code": 3},
        ],
    )
    apps = {a["package_id"]: a for a in client.get("/v1/devices/me/apps").json()["apps"]}
    assert apps[NOTES]["config"] == {"theme": "dark"} and apps[NOTES]["reported_at"]
    assert apps[NOTES]["store"] == {
        "name": notes.name,
        "status": "published",
        "disabled": False,
        "installed_version": "1.2.0",
        "yanked": True,
        "latest_version": "1.1.0",
        "latest_version_code": 10100,
        "update_available": False,
    }
    assert apps[SYNC]["store"]["disabled"] is True
    assert apps[SYNC]["store"]["latest_version"] is None and apps[SYNC]["store"]["update_available"] is False
    assert apps[MAPS]["store"] is None  # a draft is nobody's business yet
    assert apps[GHOST]["store"] is None


def test_the_reported_apps_view_runs_three_queries_for_any_number(client, django_assert_num_queries):
    for i in range(3):
        community_published_app(f"com.test.app{i}", versions=("1.0.0", "1.1.0"))
    report(client, [{"package_id": f"com.test.app{i}", "version_code": 10000} for i in range(3)])
    with django_assert_num_queries(4):  # the device token + the rows, their apps, their installed versions
        small = client.get("/v1/devices/me/apps").json()["apps"]
    assert [a["store"]["update_available"] for a in small] == [True] * 3
    for i in range(3, 40):
        community_published_app(f"com.test.app{i}", versions=("1.0.0",))
    report(client, [{"package_id": f"com.test.app{i}", "version_code": 10000} for i in range(40)])
    with django_assert_num_queries(4):
        assert len(client.get("/v1/devices/me/apps").json()["apps"]) == 40


# --- the reported config ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "config",
    [
        {f"k{i}": i for i in range(17)},
        {"Not A Name": 1},
        {"k": "x" * 201},
        {"k": {"nested": True}},
        {"k": 1.5},
        {"k": 2**64},
        ["sync"],
    ],
    ids=["too-many", "bad-name", "long-value", "nested", "float", "huge-int", "not-an-object"],
)
def test_a_config_beyond_the_bounds_is_a_400(client, config):
    response = client.put(
        "/v1/devices/me/apps",
        {"apps": [{"package_id": NOTES, "version_code": 1, "config": config}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_config_within_the_bounds_is_stored(client):
    config = {f"k{i}": "v" for i in range(15)} | {"editor.font-size": 12}
    body = report(client, [{"package_id": NOTES, "version_code": 1, "config": config}])
    assert body["apps"][0]["config"] == config


# --- plans with optional dependencies and config ---------------------------------------------------------------
def plan(client, install, decline=()):
    body = {"install": [{"package_id": p} for p in install], "decline": list(decline)}
    response = client.post("/v1/devices/me/plan?dryrun=1", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_a_plan_installs_optional_dependencies_only_when_asked_or_defaulted(client):
    notes_with_requirements()
    steps = lambda body: [s["package_id"] for s in body["install"]]  # noqa: E731
    assert steps(plan(client, [NOTES])) == [FONTS, SYNC, NOTES]
    assert steps(plan(client, [NOTES], decline=[FONTS])) == [SYNC, NOTES]
    assert steps(plan(client, [NOTES, MAPS])) == [FONTS, MAPS, SYNC, NOTES]


def test_a_plan_carries_the_config_to_apply_or_reports_the_config_to_change(client):
    notes_with_requirements()
    fresh = plan(client, [NOTES])
    assert fresh["ok"] is True
    assert {s["package_id"]: s["configure"] for s in fresh["install"]}[SYNC] == {"sync": True}

    report(client, [{"package_id": SYNC, "version_code": 20300, "config": {"sync": False}}])
    changed = plan(client, [NOTES])
    assert changed["ok"] is False
    (violation,) = changed["violations"]
    assert (violation["name"], violation["package_id"], violation["required_by"]) == (
        "incompatible-config",
        SYNC,
        NOTES,
    )
    assert violation["required_config"] == {"sync": True}


def test_installing_and_declining_one_package_is_a_400(client):
    notes_with_requirements()
    response = client.post(
        "/v1/devices/me/plan?dryrun=1",
        {"install": [{"package_id": FONTS}], "decline": [FONTS]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_the_largest_reported_set_of_known_apps_is_described_in_three_queries(
    client, django_assert_num_queries
):
    from apps.models import App
    from tests.factories import AppFactory

    owner = AppFactory().owner
    App.objects.bulk_create(
        [
            App(owner=owner, package_id=f"com.test.bulk{i}", name=f"Bulk {i}", status="published")
            for i in range(1000)
        ]
    )
    report(client, [{"package_id": f"com.test.bulk{i}", "version_code": i + 1} for i in range(1000)])
    with django_assert_num_queries(4):  # the device token + the rows, their apps, their installed versions
        apps = client.get("/v1/devices/me/apps").json()["apps"]
    assert len(apps) == 1000 and apps[0]["store"]["latest_version"] is None
