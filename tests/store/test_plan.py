"""Install-plan dry runs through HTTP (SPEC §5 "Devices", seed 002): order, breakages, violations, bounds."""

import pytest

from apps.constants import AppStatus
from tests.factories import community_device, community_published_app, community_version

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]

A, B, C, D = "com.test.a", "com.test.b", "com.test.c", "com.test.d"


@pytest.fixture
def client(api_client):
    _, token = community_device(mosis_version="1.5")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def plan(client, install=(), uninstall=(), dryrun="1"):
    body = {
        "install": [
            {"package_id": p} if isinstance(p, str) else {"package_id": p[0], "version": p[1]}
            for p in install
        ],
        "uninstall": list(uninstall),
    }
    query = f"?dryrun={dryrun}" if dryrun is not None else ""
    return client.post(f"/v1/devices/me/plan{query}", body, format="json")


def steps(response):
    assert response.status_code == 200, response.json()
    return [(s["package_id"], s["version"]) for s in response.json()["install"]]


def install_set(client, pairs):
    apps = [{"package_id": p, "version_code": code} for p, code in pairs]
    assert client.put("/v1/devices/me/apps", {"apps": apps}, format="json").status_code == 200


def test_a_chain_installs_dependencies_first_with_download_info(client):
    community_published_app(A, versions=("1.0.0",), icon_url="https://cdn.test/a.png")
    community_published_app(B, versions=(("1.0.0", {A: "^1.0.0"}),))
    community_published_app(C, versions=(("1.0.0", {B: "^1.0.0"}),))
    response = plan(client, install=[C])
    assert steps(response) == [(A, "1.0.0"), (B, "1.0.0"), (C, "1.0.0")]
    body = response.json()
    assert body["ok"] is True
    assert body["violations"] == [] and body["breakages"] == []
    first = body["install"][0]
    assert first["action"] == "install"
    assert first["icon_url"] == "https://cdn.test/a.png"
    assert first["download"]["version_code"] == 10000
    assert first["download"]["download_url"]


def test_a_diamond_installs_one_shared_version(client):
    community_published_app(A, versions=("1.0.0", "1.5.0", "1.9.0", "2.0.0"))
    community_published_app(B, versions=(("1.0.0", {A: ">=1.0.0 <1.6.0"}),))
    community_published_app(C, versions=(("1.0.0", {A: "^1.2.0"}),))
    community_published_app(D, versions=(("1.0.0", {B: "^1", C: "^1"}),))
    assert steps(plan(client, install=[D])) == [(A, "1.5.0"), (B, "1.0.0"), (C, "1.0.0"), (D, "1.0.0")]


def test_conflicting_ranges_give_an_incompatible_version_violation(client):
    community_published_app(A, versions=("1.0.0", "2.0.0"))
    community_published_app(B, versions=(("1.0.0", {A: "^1.0.0"}),))
    community_published_app(C, versions=(("1.0.0", {A: "^2.0.0"}),))
    community_published_app(D, versions=(("1.0.0", {B: "^1", C: "^1"}),))
    body = plan(client, install=[D]).json()
    assert body["ok"] is False
    assert body["install"] == []
    kinds = {(v["package_id"], v["name"]) for v in body["violations"]}
    assert (A, "incompatible-version") in kinds
    assert all(
        v["suggested_version"] in ("1.0.0", "2.0.0") for v in body["violations"] if v["package_id"] == A
    )
    assert all(v["message"] for v in body["violations"])


def test_a_cycle_resolves_without_hanging(client):
    community_published_app(A, versions=(("1.0.0", {B: "^1"}),))
    community_published_app(B, versions=(("1.0.0", {A: "^1"}),))
    assert sorted(steps(plan(client, install=[A]))) == [(A, "1.0.0"), (B, "1.0.0")]


def test_a_missing_dependency_is_a_missing_violation(client):
    community_published_app(B, versions=(("1.0.0", {"com.test.ghost": "^1"}),))
    body = plan(client, install=[B]).json()
    assert body["violations"] == [
        {
            "package_id": "com.test.ghost",
            "name": "missing",
            "required_by": B,
            "version_spec": "^1",
            "suggested_version": None,
            "status": None,
            "message": body["violations"][0]["message"],
            "rule_violations": None,
            "required_config": None,
            "auto_configurable": None,
        }
    ]
    assert "does not exist" in body["violations"][0]["message"]


def test_an_unknown_requested_package_is_missing(client):
    body = plan(client, install=["com.test.nothing"]).json()
    assert [(v["package_id"], v["name"]) for v in body["violations"]] == [("com.test.nothing", "missing")]


def test_a_disabled_dependency_is_an_incompatible_status_violation(client):
    community_published_app(A, versions=("1.0.0",), status=AppStatus.DISABLED)
    community_published_app(B, versions=(("1.0.0", {A: "^1"}),))
    body = plan(client, install=[B]).json()
    assert [(v["package_id"], v["name"], v["status"]) for v in body["violations"]] == [
        (A, "incompatible-status", "disabled")
    ]


def test_a_dependency_without_a_compatible_version_suggests_nothing_installable(client):
    app = community_published_app(A, versions=())
    community_version(app, "1.0.0", min_mosis="2.0")  # not for this device (1.5)
    community_published_app(B, versions=(("1.0.0", {A: "^1"}),))
    body = plan(client, install=[B]).json()
    assert [(v["package_id"], v["name"]) for v in body["violations"]] == [(A, "missing")]


def test_uninstalling_a_dependency_reports_the_breakage(client):
    community_published_app(A, versions=("1.0.0",))
    community_published_app(
        B, versions=(("1.0.0", {A: "^1"}),), name="Bee", icon_url="https://cdn.test/b.png"
    )
    community_published_app(C, versions=(("1.0.0", {B: "^1"}),), name="Sea")
    install_set(client, [(A, 10000), (B, 10000), (C, 10000)])
    body = plan(client, uninstall=[A]).json()
    assert body["install"] == []
    assert body["uninstall"] == [A]
    assert body["breakages"] == [
        {
            "id": B,
            "title": "Bee",
            "icon_url": "https://cdn.test/b.png",
            "reason": f"depends on {A} which would be uninstalled",
        },
        {"id": C, "title": "Sea", "icon_url": "", "reason": f"depends on {B} which would break"},
    ]


def test_an_upgrade_that_breaks_an_installed_dependent_is_reported(client):
    community_published_app(A, versions=("1.0.0", "2.0.0"))
    community_published_app(B, versions=(("1.0.0", {A: "^1"}),))
    install_set(client, [(A, 10000), (B, 10000)])
    body = plan(client, install=[(A, "^2")]).json()
    assert [(s["package_id"], s["version"], s["action"]) for s in body["install"]] == [
        (A, "2.0.0", "upgrade")
    ]
    assert [b["id"] for b in body["breakages"]] == [B]


def test_an_installed_dependency_is_kept_when_it_fits(client):
    community_published_app(A, versions=("1.0.0", "1.2.0"))
    community_published_app(B, versions=(("1.0.0", {A: "^1"}),))
    install_set(client, [(A, 10000)])
    assert steps(plan(client, install=[B])) == [(B, "1.0.0")]


def test_only_dry_runs_exist(client):
    community_published_app(A, versions=("1.0.0",))
    for dryrun in (None, "0"):
        response = plan(client, install=[A], dryrun=dryrun)
        assert response.status_code == 400
        assert "dryrun" in response.json()["error"]["details"]


@pytest.mark.parametrize(
    "body",
    [
        {"install": [{"package_id": A, "version": "not a range !!"}]},
        {"install": [{"package_id": A}], "uninstall": [A]},
        {"install": [{"package_id": f"com.test.p{i}"} for i in range(201)]},
        {"install": "nope"},
    ],
)
def test_malformed_plans_are_400(client, body):
    community_published_app(A, versions=("1.0.0",))
    response = client.post("/v1/devices/me/plan?dryrun=1", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"


def test_an_empty_plan_is_ok(client):
    assert plan(client).json() == {
        "ok": True,
        "install": [],
        "uninstall": [],
        "breakages": [],
        "violations": [],
    }


@pytest.mark.parametrize("installed", [1, 30])
def test_plan_query_count_does_not_grow_with_the_installed_set(client, django_assert_num_queries, installed):
    pairs = []
    for i in range(installed):
        package_id = f"com.test.inst{i}"
        community_published_app(package_id, versions=(("1.0.0", {A: "^1"}),))
        pairs.append((package_id, 10000))
    community_published_app(A, versions=("1.0.0",))
    community_published_app(B, versions=(("1.0.0", {A: "^1"}),))
    community_published_app(C, versions=(("1.0.0", {B: "^1"}),))
    install_set(client, pairs)
    # device auth, installed set, then apps + versions per dependency layer: {C, installed...} → {B, A} → {}.
    with django_assert_num_queries(6):
        response = plan(client, install=[C])
    assert steps(response) == [(A, "1.0.0"), (B, "1.0.0"), (C, "1.0.0")]


def test_installed_packages_the_store_does_not_know_do_not_block_a_plan(client):
    community_published_app(A, versions=("1.0.0",))
    install_set(client, [("com.test.sideloaded", 7)])
    body = plan(client, install=[A]).json()
    assert body["ok"] is True
    assert [(s["package_id"], s["action"]) for s in body["install"]] == [(A, "install")]


def test_a_yanked_installed_dependency_still_satisfies_its_dependents(client):
    a = community_published_app(A, versions=("1.0.0",))
    community_version(a, "1.1.0", yanked=True)
    community_published_app(B, versions=(("1.0.0", {A: "~1.1.0"}),))
    install_set(client, [(A, 10100)])
    assert steps(plan(client, install=[B])) == [(B, "1.0.0")]


def test_dependencies_beyond_the_preloaded_layers_are_loaded_on_demand(client, monkeypatch):
    from store.devices.services import installed as devices

    monkeypatch.setattr(devices, "MAX_PRELOAD_LAYERS", 1)
    community_published_app(A, versions=("1.0.0",))
    community_published_app(B, versions=(("1.0.0", {A: "^1"}),))
    community_published_app(C, versions=(("1.0.0", {B: "^1"}),))
    community_published_app(D, versions=(("1.0.0", {C: "^1"}),))
    assert steps(plan(client, install=[D])) == [(A, "1.0.0"), (B, "1.0.0"), (C, "1.0.0"), (D, "1.0.0")]


def test_a_long_chain_is_planned_with_queries_bounded_by_its_depth(client, django_assert_max_num_queries):
    previous = None
    for i in range(12):
        deps = {previous: "^1"} if previous else None
        package_id = f"com.test.chain{i:02d}"
        community_published_app(package_id, versions=(("1.0.0", deps),))
        previous = package_id
    # auth + installed set + 2 per layer (12 layers) + one empty lookup at most.
    with django_assert_max_num_queries(2 + 2 * 12 + 2):
        response = plan(client, install=[previous])
    assert len(steps(response)) == 12
