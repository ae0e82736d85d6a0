"""``/v1/apps`` over HTTP, as a developer's CLI would call it (SPEC §4–§5, seed 000)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.tokens import hash_secret, new_api_key_secret
from apps.constants import AppStatus
from apps.models import ActivityEvent, App
from tests.factories import AppFactory, CategoryFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


def api_key_client(user, scopes) -> APIClient:
    secret = new_api_key_secret()
    ApiKey.objects.create(
        user=user, name="ci", key_prefix=secret[:12], key_hash=hash_secret(secret), scopes=list(scopes)
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def published_version(app, code=1, **fields):
    from django.utils import timezone

    from versions.models import AppVersion

    return AppVersion.objects.create(
        app=app,
        version_name=f"1.0.{code}",
        version_code=code,
        status="published",
        published_at=timezone.now(),
        package_size=1234,
        permissions=["network"],
        **fields,
    )


def test_create_app_returns_the_full_app(auth_client, user):
    category = CategoryFactory(slug="tools")
    body = {
        "package_id": "com.example.notes",
        "name": "Notes",
        "description": "Take notes.",
        "long_description": "# Notes\nMarkdown.",
        "category": "tools",
        "tags": ["notes", "writing", "notes"],
        "type": "extension",
        "homepage_url": "https://example.com",
        "support_url": "https://example.com/support",
        "screenshots": ["https://example.com/1.png"],
        "icon_url": "https://example.com/icon.png",
        "requires_restart": True,
    }
    response = auth_client.post("/v1/apps", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["package_id"] == "com.example.notes"
    assert data["status"] == "draft"
    assert data["category"] == category.slug
    assert data["tags"] == ["notes", "writing"]
    assert data["type"] == "extension"
    assert data["screenshots"] == ["https://example.com/1.png"]
    assert data["requires_restart"] is True
    assert data["latest_version"] is None
    assert data["max_mosis_version"] == ""
    app = App.objects.get(pk=data["id"])
    assert app.owner == user
    assert ActivityEvent.objects.filter(app=app, type="app.created", actor=user).exists()


def test_create_defaults_type_to_app(auth_client):
    response = auth_client.post("/v1/apps", {"package_id": "com.example.a", "name": "A"}, format="json")
    assert response.status_code == 201
    assert response.json()["type"] == "app"
    assert response.json()["category"] is None


@pytest.mark.parametrize(
    "package_id",
    ["Com.example.app", "com", "com.", "com..app", "1com.app", "com.example-app", "com.example.app\n", ""],
)
def test_create_refuses_a_malformed_package_id(auth_client, package_id):
    response = auth_client.post("/v1/apps", {"package_id": package_id, "name": "X"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "package_id" in response.json()["error"]["details"]


def test_create_refuses_a_package_id_taken_by_another_developer(auth_client):
    AppFactory(package_id="com.example.taken", owner=UserFactory())
    response = auth_client.post("/v1/apps", {"package_id": "com.example.taken", "name": "X"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert "package_id" in response.json()["error"]["details"]


@pytest.mark.parametrize(
    "field,value",
    [
        ("tags", [f"t{i}" for i in range(21)]),
        ("tags", ["x" * 31]),
        ("screenshots", ["http://example.com/1.png"]),
        ("screenshots", [f"https://example.com/{i}.png" for i in range(11)]),
        ("type", "virus"),
        ("category", "no-such-category"),
        ("category", ""),  # not "no category" (that is null): found by schemathesis
        ("name", 0),  # a number where the schema says string
        ("description", True),
        ("tags", [7]),
        ("homepage_url", "not a url"),
        ("status", "published"),
        ("owner", "someone"),
    ],
)
def test_create_validates_fields(auth_client, field, value):
    body = {"package_id": "com.example.valid", "name": "Valid", field: value}
    response = auth_client.post("/v1/apps", body, format="json")
    assert response.status_code == 400, response.json()
    assert any(key.split(".")[0] == field for key in response.json()["error"]["details"])
    assert not App.objects.exists()


def test_create_is_idempotent_with_a_key(auth_client):
    body = {"package_id": "com.example.once", "name": "Once"}
    first = auth_client.post("/v1/apps", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    second = auth_client.post("/v1/apps", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert App.objects.count() == 1


def test_list_shows_only_own_apps_with_status_filter_and_pagination(auth_client, user):
    AppFactory.create_batch(3, owner=user)
    AppFactory(owner=user, status=AppStatus.PUBLISHED)
    AppFactory(owner=UserFactory())
    response = auth_client.get("/v1/apps?limit=2")
    data = response.json()
    assert response.status_code == 200
    assert data["total"] == 4
    assert len(data["apps"]) == 2
    assert data["pagination"] == {"page": 1, "limit": 2, "total": 4, "total_pages": 2, "total_exact": True}
    published = auth_client.get("/v1/apps?status=published").json()
    assert [a["status"] for a in published["apps"]] == ["published"]
    assert auth_client.get("/v1/apps?status=bogus").status_code == 400


def test_latest_version_is_the_newest_published_non_yanked_version(auth_client, user):
    from django.utils import timezone

    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    published_version(app, code=1)
    published_version(app, code=2)
    published_version(app, code=3, yanked_at=timezone.now())
    data = auth_client.get(f"/v1/apps/{app.id}").json()
    assert data["latest_version"]["version_code"] == 2
    assert data["latest_version"]["app_id"] == str(app.id)
    listed = auth_client.get("/v1/apps").json()["apps"][0]
    assert listed["latest_version"]["version_code"] == 2


def test_get_patch_delete_of_another_developers_app_is_404(other_client, user):
    app = AppFactory(owner=user)
    for response in (
        other_client.get(f"/v1/apps/{app.id}"),
        other_client.patch(f"/v1/apps/{app.id}", {"name": "Mine now"}, format="json"),
        other_client.delete(f"/v1/apps/{app.id}"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"
    app.refresh_from_db()
    assert app.name != "Mine now"


def test_malformed_app_id_is_404(auth_client):
    assert auth_client.get("/v1/apps/not-a-uuid").status_code == 404


def test_patch_updates_metadata_and_records_activity(auth_client, user):
    app = AppFactory(owner=user, name="Old")
    CategoryFactory(slug="games")
    response = auth_client.patch(
        f"/v1/apps/{app.id}", {"name": "New", "tags": ["a", "b"], "category": "games"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "New"
    assert response.json()["tags"] == ["a", "b"]
    assert response.json()["category"] == "games"
    event = ActivityEvent.objects.get(app=app, type="app.updated")
    assert event.data == {"fields": ["category", "name", "tags"]}


@pytest.mark.parametrize(
    "field,value",
    [
        ("status", "published"),
        ("package_id", "com.example.other"),
        ("owner", "x"),
        ("max_mosis_version", "9"),
    ],
)
def test_patch_cannot_set_read_only_fields(auth_client, user, field, value):
    app = AppFactory(owner=user, package_id="com.example.fixed")
    response = auth_client.patch(f"/v1/apps/{app.id}", {field: value, "name": "Renamed"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"] == {field: ["This field is read-only."]}
    app.refresh_from_db()
    assert (app.status, app.package_id, app.name) == (AppStatus.DRAFT, "com.example.fixed", app.name)
    assert app.name != "Renamed"


def test_put_is_not_allowed(auth_client, user):
    app = AppFactory(owner=user)
    response = auth_client.put(f"/v1/apps/{app.id}", {"name": "X"}, format="json")
    assert response.status_code == 405


def test_delete_a_never_published_app(auth_client, user, settings):
    from mosis.core import storage
    from versions.models import AppVersion

    app = AppFactory(owner=user)
    storage.put_bytes("packages/test/pkg.zip", b"zip")
    AppVersion.objects.create(
        app=app, version_name="1.0.0", version_code=1, status="draft", package_key="packages/test/pkg.zip"
    )
    response = auth_client.delete(f"/v1/apps/{app.id}")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert not App.objects.filter(pk=app.pk).exists()
    assert ActivityEvent.objects.filter(type="app.deleted", data__package_id=app.package_id).exists()


def test_delete_removes_stored_objects_after_commit(user, django_capture_on_commit_callbacks):
    from mosis.core import storage
    from versions.models import AppVersion
    from versions.services import app_delete

    app = AppFactory(owner=user)
    storage.put_bytes("packages/test/a.zip", b"zip")
    storage.put_bytes("icons/test/a.png", b"png")
    AppVersion.objects.create(
        app=app,
        version_name="1.0.0",
        version_code=1,
        status="draft",
        package_key="packages/test/a.zip",
        icon_key="icons/test/a.png",
    )
    with django_capture_on_commit_callbacks(execute=True):
        app_delete(app=app, actor=user)
    assert storage.object_size("packages/test/a.zip") is None
    assert storage.object_size("icons/test/a.png") is None


def test_delete_is_refused_once_a_version_was_published(auth_client, user):
    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    published_version(app)
    response = auth_client.delete(f"/v1/apps/{app.id}")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert App.objects.filter(pk=app.pk).exists()


def test_api_key_without_apps_write_cannot_create_update_or_delete(user):
    app = AppFactory(owner=user)
    client = api_key_client(user, ["apps:read"])
    assert client.get("/v1/apps").status_code == 200
    assert client.get(f"/v1/apps/{app.id}").status_code == 200
    for response in (
        client.post("/v1/apps", {"package_id": "com.example.k", "name": "K"}, format="json"),
        client.patch(f"/v1/apps/{app.id}", {"name": "K"}, format="json"),
        client.delete(f"/v1/apps/{app.id}"),
    ):
        assert response.status_code == 403
        assert "apps:write" in response.json()["error"]["message"]


def test_api_key_without_apps_read_cannot_list(user):
    client = api_key_client(user, ["apps:write"])
    response = client.get("/v1/apps")
    assert response.status_code == 403
    assert "apps:read" in response.json()["error"]["message"]


def test_api_key_with_apps_write_can_create(user):
    client = api_key_client(user, ["apps:write"])
    response = client.post("/v1/apps", {"package_id": "com.example.key", "name": "K"}, format="json")
    assert response.status_code == 201


def test_anonymous_is_401(api_client):
    response = api_client.get("/v1/apps")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("count", [1, 30])
def test_list_query_count_does_not_grow_with_apps(auth_client, user, count, django_assert_num_queries):
    for _ in range(count):
        app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
        published_version(app)
    # auth user, count, page of apps (+category join), prefetch of latest versions
    with django_assert_num_queries(4):
        response = auth_client.get("/v1/apps?limit=100")
    assert response.status_code == 200
    assert len(response.json()["apps"]) == count


def test_a_deleted_apps_package_id_stays_reserved_until_staff_release_it(
    auth_client, other_client, staff_user
):
    """Issue "Trust" §5: after a delete nobody (not even the same developer) may take the package id again,
    so users of the deleted app are never handed someone else's package under the name they trusted."""
    from apps.services import package_id_release

    created = auth_client.post("/v1/apps", {"package_id": "com.example.gone", "name": "Gone"}, format="json")
    assert auth_client.delete(f"/v1/apps/{created.json()['id']}").status_code == 200
    for client in (other_client, auth_client):
        again = client.post("/v1/apps", {"package_id": "com.example.gone", "name": "Impostor"}, format="json")
        assert again.status_code == 409
        assert "reserved" in again.json()["error"]["message"]
    package_id_release(package_id="com.example.gone", actor=staff_user)
    taken = other_client.post("/v1/apps", {"package_id": "com.example.gone", "name": "New"}, format="json")
    assert taken.status_code == 201


def test_only_staff_release_a_reserved_package_id(user):
    from apps.models import ReservedPackageId
    from apps.services import package_id_release
    from mosis.core.errors import ApplicationError

    ReservedPackageId.objects.create(package_id="com.example.kept", reserved_at="2026-01-01T00:00:00Z")
    with pytest.raises(ApplicationError) as exc:
        package_id_release(package_id="com.example.kept", actor=user)
    assert exc.value.code == "FORBIDDEN"
    assert ReservedPackageId.objects.filter(package_id="com.example.kept").exists()


def test_staff_release_a_reserved_package_id_in_the_admin(client, staff_user):
    from apps.models import ReservedPackageId

    reserved = ReservedPackageId.objects.create(
        package_id="com.example.kept", reserved_at="2026-01-01T00:00:00Z"
    )
    client.force_login(staff_user)
    response = client.post(
        "/admin/apps/reservedpackageid/",
        {"action": "release", "_selected_action": [reserved.pk]},
    )
    assert response.status_code == 302
    assert not ReservedPackageId.objects.exists()
    assert ActivityEvent.objects.filter(type="app.package_id_released").exists()


def test_one_developer_creating_apps_in_a_loop_is_stopped_at_the_daily_cap(user, settings):
    """Issue "Trust" §3: the cap is per developer, so spreading the loop over several API keys buys nothing,
    and deleting an app does not give its slot back."""
    settings.MAX_NEW_APPS_PER_DAY = 4
    clients = [api_key_client(user, ["apps:read", "apps:write"]) for _ in range(3)]
    statuses = [
        clients[n % 3].post(
            "/v1/apps", {"package_id": f"com.loop.app{n}", "name": f"Loop {n}"}, format="json"
        )
        for n in range(6)
    ]
    assert [r.status_code for r in statuses] == [201, 201, 201, 201, 429, 429]
    refused = statuses[-1].json()["error"]
    assert refused["code"] == "RATE_LIMITED"
    assert "4 new apps per developer per day" in refused["message"]
    assert 0 < int(statuses[-1]["Retry-After"]) <= 86400
    assert App.objects.filter(owner=user).count() == 4
    # Deleting one does not free a slot today.
    victim = App.objects.filter(owner=user).first()
    assert clients[0].delete(f"/v1/apps/{victim.id}").status_code in (200, 204)
    again = clients[0].post("/v1/apps", {"package_id": "com.loop.again", "name": "Again"}, format="json")
    assert again.status_code == 429
    # Another developer has their own budget.
    other = api_key_client(UserFactory(), ["apps:write"])
    assert (
        other.post("/v1/apps", {"package_id": "com.other.one", "name": "One"}, format="json").status_code
        == 201
    )


def test_apps_created_yesterday_do_not_count_toward_today(user, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.MAX_NEW_APPS_PER_DAY = 1
    old = AppFactory(owner=user)
    App.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=1, minutes=1))
    client = api_key_client(user, ["apps:write"])
    assert (
        client.post("/v1/apps", {"package_id": "com.new.one", "name": "New"}, format="json").status_code
        == 201
    )


def test_the_owner_unlists_and_relists_a_published_app(auth_client, user):
    """SPEC §6: published ⇄ unlisted by the owner (the 409 on deleting a published app tells them to)."""
    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    unlisted = auth_client.post(f"/v1/apps/{app.id}/unlist")
    assert unlisted.status_code == 200
    assert unlisted.json()["status"] == "unlisted"
    again = auth_client.post(f"/v1/apps/{app.id}/unlist")
    assert again.status_code == 409
    assert "'unlisted'" in again.json()["error"]["message"]
    relisted = auth_client.post(f"/v1/apps/{app.id}/relist")
    assert relisted.status_code == 200 and relisted.json()["status"] == "published"
    assert ActivityEvent.objects.filter(app=app, type="app.status_changed").count() == 2


@pytest.mark.parametrize(
    ("status", "action", "code"),
    [("draft", "unlist", 409), ("suspended", "relist", 403), ("published", "relist", 409)],
)
def test_unlist_and_relist_follow_the_state_machine(auth_client, user, status, action, code):
    app = AppFactory(owner=user, status=status)
    response = auth_client.post(f"/v1/apps/{app.id}/{action}")
    assert response.status_code == code
    assert App.objects.get(pk=app.pk).status == status


def test_another_developers_app_cannot_be_unlisted(other_client, user):
    app = AppFactory(owner=user, status=AppStatus.PUBLISHED)
    assert other_client.post(f"/v1/apps/{app.id}/unlist").status_code == 404


def test_apps_carry_their_source_and_repository(auth_client):
    created = auth_client.post(
        "/v1/apps",
        {"package_id": "com.example.src", "name": "Src", "repository": "https://git.example.com/src"},
        format="json",
    )
    assert created.status_code == 201
    assert created.json()["source"] == "mosis"
    assert created.json()["repository"] == "https://git.example.com/src"
    refused = auth_client.patch(f"/v1/apps/{created.json()['id']}", {"source": "npm"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"] == {"source": ["This field is read-only."]}
