"""The new seed endpoints answer exactly what /v1/openapi.json says: real 200 bodies (with requirements,
violations of every kind, config and the store's view filled in) validated against the published schema."""

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from store.catalog.services.document import catalog_rebuild
from store.catalog.services.listing import listing_refresh
from tests.factories import community_device, community_published_app, community_version
from tests.store.conftest import read_catalog

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]

NOTES, SYNC = "com.test.notes", "com.test.sync"


def _json_schema(node):
    """OpenAPI 3.0's ``nullable`` as JSON Schema (``"null"`` allowed beside the declared type or ref)."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _json_schema(value) for key, value in node.items()}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture
def validate(api_client):
    spec = _json_schema(api_client.get("/v1/openapi.json").json())
    registry = Registry().with_resource("urn:openapi", DRAFT202012.create_resource(spec))

    def check(path: str, method: str, body):
        schema = spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
        rewritten = _rewrite_refs(schema)
        errors = list(Draft202012Validator(rewritten, registry=registry).iter_errors(body))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]

    return check


def _rewrite_refs(node):
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: (f"urn:openapi{value}" if key == "$ref" else _rewrite_refs(value)) for key, value in node.items()
    }


@pytest.fixture
def device_client(api_client):
    _, token = community_device(mosis_version="1.5")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api_client


def test_the_device_view_and_the_version_detail_match_the_schema(device_client, validate):
    community_published_app(SYNC, versions=("1.0.0", "2.0.0"), name="Sync")
    notes = community_published_app(NOTES, versions=())
    community_version(
        notes,
        "1.0.0",
        dependencies={SYNC: "^2.0.0", "com.test.ghost": "^1", "com.test.maps": "^1"},
        dependency_rules={
            SYNC: {
                "optional": False,
                "default": True,
                "description": "Sync.",
                "config": {"on": True, "n": 3},
            },
            "com.test.maps": {"optional": True, "default": False, "description": "", "config": {}},
        },
    )
    listing_refresh(app_id=notes.pk)
    reported = [{"package_id": SYNC, "version_code": 20000, "config": {"on": False, "mode": "x"}}]
    put = device_client.put("/v1/devices/me/apps", {"apps": reported}, format="json")
    assert put.status_code == 200
    validate("/v1/devices/me/apps", "put", put.json())
    validate("/v1/devices/me/apps", "get", device_client.get("/v1/devices/me/apps").json())

    view = device_client.get(f"/v1/devices/me/store/apps/{NOTES}").json()
    assert {r["violation"]["name"] for r in view["requirements"] if r["violation"]} == {
        "incompatible-config",
        "missing",
    }
    validate("/v1/devices/me/store/apps/{package_id}", "get", view)

    detail = device_client.get(f"/v1/store/apps/{NOTES}/versions/10000").json()
    validate("/v1/store/apps/{package_id}/versions/{version_code}", "get", detail)

    plan = device_client.post(
        "/v1/devices/me/plan?dryrun=1", {"install": [{"package_id": NOTES}]}, format="json"
    ).json()
    assert plan["violations"][0]["name"] == "missing"  # com.test.ghost
    validate("/v1/devices/me/plan", "post", plan)
    other = community_published_app("com.test.other", versions=())
    community_version(
        other,
        "1.0.0",
        dependencies={SYNC: "^2"},
        dependency_rules={SYNC: {"optional": False, "config": {"on": True}}},
    )
    listing_refresh(app_id=other.pk)
    plan = device_client.post(
        "/v1/devices/me/plan?dryrun=1", {"install": [{"package_id": "com.test.other"}]}, format="json"
    ).json()
    assert [v["name"] for v in plan["violations"]] == ["incompatible-config"]
    validate("/v1/devices/me/plan", "post", plan)


def test_browse_listing_and_catalog_items_match_the_schema(api_client, validate):
    community_published_app(NOTES, versions=(("1.0.0", {SYNC: "^1"}),))
    validate("/v1/store/apps", "get", api_client.get("/v1/store/apps").json())
    validate("/v1/store/apps/{package_id}", "get", api_client.get(f"/v1/store/apps/{NOTES}").json())
    first = api_client.get("/v1/store/catalog")
    validate("/v1/store/catalog", "get", read_catalog(first))
    community_published_app(SYNC, versions=(("1.0.0", {}),))
    catalog_rebuild()
    delta = api_client.get("/v1/store/catalog", {"since": first["ETag"]}).json()
    assert [a["package_id"] for a in delta["changed"]] == [SYNC]
    validate("/v1/store/catalog", "get", delta)  # the other branch of the response's oneOf
