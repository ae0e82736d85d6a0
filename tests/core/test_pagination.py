"""SPEC §3 pagination: page/limit or offset/limit, bounded, one body shape for every list."""

import pytest
from django.contrib.auth.models import Group

pytestmark = [pytest.mark.urls("tests.core.probe_urls"), pytest.mark.django_db]


def test_default_page_is_the_first_twenty(api_client):
    body = api_client.get("/v1/_probe/numbers").json()
    assert body["numbers"] == list(range(20))
    assert body["total"] == 45
    assert body["pagination"] == {"page": 1, "limit": 20, "total": 45, "total_pages": 3, "total_exact": True}


def test_page_and_limit(api_client):
    body = api_client.get("/v1/_probe/numbers?page=3&limit=20").json()
    assert body["numbers"] == list(range(40, 45))
    assert body["pagination"] == {"page": 3, "limit": 20, "total": 45, "total_pages": 3, "total_exact": True}


def test_a_page_past_the_end_is_empty_not_an_error(api_client):
    body = api_client.get("/v1/_probe/numbers?page=9&limit=10").json()
    assert body["numbers"] == []
    assert body["pagination"]["total_pages"] == 5


def test_offset_and_limit(api_client):
    body = api_client.get("/v1/_probe/numbers?offset=10&limit=5").json()
    assert body["numbers"] == [10, 11, 12, 13, 14]
    assert body["pagination"]["page"] == 3


def test_limit_of_one_hundred_is_allowed(api_client):
    body = api_client.get("/v1/_probe/numbers?limit=100").json()
    assert len(body["numbers"]) == 45
    assert body["pagination"]["total_pages"] == 1


@pytest.mark.parametrize(
    "query,field",
    [
        ("limit=101", "limit"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("offset=-1", "offset"),
        ("page=99999999999999999999", "page"),
    ],
)
def test_bad_paging_parameters_are_400(api_client, query, field):
    response = api_client.get(f"/v1/_probe/numbers?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert field in error["details"]


def test_offset_takes_precedence_over_page(api_client):
    body = api_client.get("/v1/_probe/numbers?page=3&offset=10&limit=5").json()
    assert body["numbers"] == [10, 11, 12, 13, 14]
    assert body["pagination"]["page"] == 3  # offset 10 / limit 5 -> the third page


def test_empty_list_has_zero_pages(api_client):
    body = api_client.get("/v1/_probe/groups").json()
    assert body == {
        "groups": [],
        "total": 0,
        "pagination": {"page": 1, "limit": 20, "total": 0, "total_pages": 0, "total_exact": True},
    }


@pytest.mark.parametrize("count", [1, 50])
def test_a_paginated_list_costs_two_queries_whatever_its_size(api_client, django_assert_num_queries, count):
    Group.objects.bulk_create(Group(name=f"g{i:03d}") for i in range(count))
    with django_assert_num_queries(2):  # COUNT + one page
        body = api_client.get("/v1/_probe/groups?limit=100").json()
    assert body["total"] == count
    assert body["groups"][0] == {"name": "g000"}
