"""Ratings and reviews (SPEC §5, seed 001): replace on second review, validation, replies, hiding, ratings."""

import pytest
from django.contrib.admin.sites import site as admin_site
from django.test import RequestFactory

from apps.constants import AppStatus
from store.community.services import reviews as review_services
from store.models import AppListing, Review, ReviewReply
from tests.conftest import jwt_client_for
from tests.factories import UserFactory, community_device, community_published_app

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]


def url(package_id):
    return f"/v1/store/apps/{package_id}/reviews"


@pytest.fixture
def app(other_user):
    return community_published_app("com.test.notes", owner=other_user)


def listing(app) -> AppListing:
    return AppListing.objects.get(app=app)


def test_a_signed_in_user_rates_and_reviews_an_app(auth_client, app, user):
    response = auth_client.post(
        url(app.package_id), {"rating": 4, "title": "Fish!", "body": "It ate my fish."}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rating"] == 4
    assert body["title"] == "Fish!"
    assert body["body"] == "It ate my fish."
    assert body["version_name"] == "1.0.0"
    assert body["author"] == {"name": user.display_name}
    assert body["reply"] is None
    assert "email" not in str(body)


def test_a_rating_alone_or_with_a_title_is_enough(auth_client, app):
    assert auth_client.post(url(app.package_id), {"rating": 5}, format="json").status_code == 201
    response = auth_client.post(url(app.package_id), {"rating": 3, "title": "Fine"}, format="json")
    assert response.status_code == 200
    assert response.json()["title"] == "Fine"


def test_a_second_review_by_the_same_user_replaces_the_first(auth_client, app):
    first = auth_client.post(
        url(app.package_id), {"rating": 2, "title": "Meh", "body": "Slow."}, format="json"
    ).json()
    second = auth_client.post(
        url(app.package_id), {"rating": 5, "title": "Fixed", "body": "Fast now."}, format="json"
    )
    assert second.status_code == 200
    assert second.json()["id"] == first["id"]
    assert Review.objects.filter(app=app).count() == 1
    row = listing(app)
    assert (row.rating_count, row.rating_sum, row.ratings_2, row.ratings_5) == (1, 5, 0, 1)


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"rating": "five"}, "rating"),
        ({}, "rating"),
        ({"rating": 4, "body": "No title given."}, "title"),
        ({"rating": 4, "title": "   ", "body": "Blank title."}, "title"),
        ({"rating": 4, "title": "x" * 201}, "title"),
        ({"rating": 4, "title": "Long", "body": "x" * 5001}, "body"),
    ],
)
def test_invalid_reviews_are_refused_with_field_errors(auth_client, app, payload, field):
    response = auth_client.post(url(app.package_id), payload, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"]
    assert not Review.objects.exists()


def test_limits_are_inclusive(auth_client, app):
    response = auth_client.post(
        url(app.package_id), {"rating": 1, "title": "t" * 200, "body": "b" * 5000}, format="json"
    )
    assert response.status_code == 201


def test_reviewing_needs_a_signed_in_user(api_client, app):
    response = api_client.post(url(app.package_id), {"rating": 5}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_a_device_token_cannot_review(api_client, app):
    _, token = community_device()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.post(url(app.package_id), {"rating": 5}, format="json")
    assert response.status_code == 403


def test_the_developer_cannot_review_their_own_app(other_client, app):
    response = other_client.post(url(app.package_id), {"rating": 5}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


@pytest.mark.parametrize("status", [AppStatus.DRAFT, AppStatus.SUSPENDED, AppStatus.DISABLED])
def test_apps_that_are_not_reachable_cannot_be_reviewed_or_read(auth_client, api_client, status):
    hidden = community_published_app("com.test.hidden", status=status)
    assert auth_client.post(url(hidden.package_id), {"rating": 5}, format="json").status_code == 404
    assert api_client.get(url(hidden.package_id)).status_code == 404


def test_an_unlisted_app_can_be_reviewed_by_package_id(auth_client):
    unlisted = community_published_app("com.test.unlisted", status=AppStatus.UNLISTED)
    assert auth_client.post(url(unlisted.package_id), {"rating": 5}, format="json").status_code == 201


def test_the_public_list_is_newest_first_with_replies(api_client, app, other_client):
    for rating in (1, 2, 3):
        client = jwt_client_for(UserFactory())
        client.post(url(app.package_id), {"rating": rating, "title": f"R{rating}"}, format="json")
    newest = Review.objects.get(rating=3)
    other_client.post(f"{url(app.package_id)}/{newest.pk}/reply", {"body": "Thanks!"}, format="json")
    response = api_client.get(url(app.package_id))
    assert response.status_code == 200
    body = response.json()
    assert [r["rating"] for r in body["reviews"]] == [3, 2, 1]
    assert body["reviews"][0]["reply"]["body"] == "Thanks!"
    assert body["reviews"][1]["reply"] is None
    assert body["total"] == 3
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 3, "total_pages": 1, "total_exact": True}


def test_the_public_list_paginates(api_client, app):
    for _ in range(3):
        jwt_client_for(UserFactory()).post(url(app.package_id), {"rating": 4}, format="json")
    body = api_client.get(url(app.package_id), {"limit": 2, "page": 2}).json()
    assert len(body["reviews"]) == 1
    assert body["pagination"]["total_pages"] == 2
    assert len(api_client.get(url(app.package_id), {"offset": 1, "limit": 5}).json()["reviews"]) == 2


@pytest.mark.parametrize("count", [1, 30])
def test_the_review_list_query_count_does_not_grow(api_client, app, django_assert_num_queries, count):
    for _ in range(count):
        review = Review.objects.create(app=app, user=UserFactory(), rating=4, title="ok")
        ReviewReply.objects.create(review=review, author=app.owner, body="thanks")
    # The app lookup, the count and one page of reviews with authors and replies joined.
    with django_assert_num_queries(3):
        response = api_client.get(url(app.package_id), {"limit": 100})
    assert len(response.json()["reviews"]) == count


def test_only_the_developer_replies_and_a_second_reply_replaces_the_first(auth_client, other_client, app):
    review_id = auth_client.post(
        url(app.package_id), {"rating": 2, "title": "Crashes"}, format="json"
    ).json()["id"]
    reply_url = f"{url(app.package_id)}/{review_id}/reply"
    assert auth_client.post(reply_url, {"body": "I am not the developer"}, format="json").status_code == 403
    first = other_client.post(reply_url, {"body": "Fixed in 1.1"}, format="json")
    assert first.status_code == 201
    assert first.json()["body"] == "Fixed in 1.1"
    second = other_client.post(reply_url, {"body": "Fixed in 1.2"}, format="json")
    assert second.status_code == 200
    assert ReviewReply.objects.get().body == "Fixed in 1.2"


def test_reply_validation_and_unknown_reviews(other_client, auth_client, app):
    review_id = auth_client.post(url(app.package_id), {"rating": 2}, format="json").json()["id"]
    reply_url = f"{url(app.package_id)}/{review_id}/reply"
    assert other_client.post(reply_url, {"body": ""}, format="json").status_code == 400
    assert other_client.post(reply_url, {"body": "x" * 5001}, format="json").status_code == 400
    missing = f"{url(app.package_id)}/00000000-0000-0000-0000-000000000000/reply"
    assert other_client.post(missing, {"body": "hi"}, format="json").status_code == 404


def test_ratings_breakdown_average_and_count(app):
    for rating in (5, 5, 4, 1):
        review_services.review_upsert(app=app, user=UserFactory(), rating=rating)
    row = listing(app)
    assert [row.ratings_1, row.ratings_2, row.ratings_3, row.ratings_4, row.ratings_5] == [1, 0, 0, 1, 2]
    assert row.rating_count == 4
    assert row.rating_sum / row.rating_count == pytest.approx(3.75)


def test_hidden_reviews_leave_the_list_and_the_ratings(api_client, app, staff_user):
    kept = review_services.review_upsert(app=app, user=UserFactory(), rating=5)[0]
    spam = review_services.review_upsert(app=app, user=UserFactory(), rating=1, title="spam")[0]
    admin = admin_site.get_model_admin(Review)
    request = RequestFactory().post("/admin/store/review/")
    request.user = staff_user
    admin.message_user = lambda *args, **kwargs: None
    admin.hide_reviews(request, Review.objects.filter(pk=spam.pk))

    spam.refresh_from_db()
    assert spam.hidden
    ids = [r["id"] for r in api_client.get(url(app.package_id)).json()["reviews"]]
    assert ids == [str(kept.pk)]
    row = listing(app)
    assert (row.rating_count, row.rating_sum, row.ratings_1) == (1, 5, 0)
    assert row.rating_score > 3.5

    admin.unhide_reviews(request, Review.objects.filter(pk=spam.pk))
    assert listing(app).rating_count == 2


def test_a_hidden_review_cannot_be_replied_to(app, other_client):
    review = review_services.review_upsert(app=app, user=UserFactory(), rating=1)[0]
    review_services.reviews_set_hidden(reviews=[review], hidden=True)
    response = other_client.post(f"{url(app.package_id)}/{review.pk}/reply", {"body": "hm"}, format="json")
    assert response.status_code == 404


def test_the_review_list_is_cached_with_an_etag_and_refreshed_by_a_new_review(
    api_client, auth_client, app, django_capture_on_commit_callbacks, django_assert_num_queries
):
    first = api_client.get(url(app.package_id))
    assert first.status_code == 200
    assert first["Cache-Control"].startswith("public")
    etag = first["ETag"]
    with django_assert_num_queries(0):
        again = api_client.get(url(app.package_id), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.post(url(app.package_id), {"rating": 5}, format="json")
    fresh = api_client.get(url(app.package_id), HTTP_IF_NONE_MATCH=etag)
    assert fresh.status_code == 200
    assert fresh.json()["total"] == 1


def test_a_public_read_ignores_a_bad_token(api_client, app):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-valid-jwt")
    assert api_client.get(url(app.package_id)).status_code == 200


def test_a_hidden_review_stays_hidden_when_its_author_posts_again(auth_client, app, user):
    review = review_services.review_upsert(app=app, user=user, rating=1, title="spam")[0]
    review_services.reviews_set_hidden(reviews=[review], hidden=True)
    response = auth_client.post(url(app.package_id), {"rating": 1, "title": "more spam"}, format="json")
    assert response.status_code == 200
    review.refresh_from_db()
    assert review.hidden and review.title == "more spam"
    assert listing(app).rating_count == 0


@pytest.mark.parametrize("model", ["review", "reviewreply", "abusereport", "deviceapp"])
def test_the_admin_pages_open_for_staff(admin_client, app, model):
    review = Review.objects.create(app=app, user=UserFactory(), rating=3, title="ok")
    ReviewReply.objects.create(review=review, author=app.owner, body="thanks")
    assert admin_client.get(f"/admin/store/{model}/").status_code == 200
    if model == "review":
        assert admin_client.get(f"/admin/store/review/{review.pk}/change/").status_code == 200


def test_the_listing_shows_average_breakdown_and_count_after_reviews(
    api_client, app, django_capture_on_commit_callbacks
):
    for rating in (5, 4, 4, 1):
        with django_capture_on_commit_callbacks(execute=True):
            jwt_client_for(UserFactory()).post(url(app.package_id), {"rating": rating}, format="json")
    body = api_client.get(f"/v1/store/apps/{app.package_id}").json()
    assert body["ratings"] == [1, 0, 0, 2, 1]
    assert body["rating_count"] == 4
    assert body["rating"] == pytest.approx(3.5)
