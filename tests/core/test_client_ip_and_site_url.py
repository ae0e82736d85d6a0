"""The client IP behind trusted proxies and absolute URLs from the request's host (SPEC §3, issue "Trust")."""

import pytest
from django.test import RequestFactory

from mosis.core.clientip import client_ip
from mosis.core.siteurl import absolute_url

rf = RequestFactory()


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.1"),  # no trusted proxy: the header is anyone's and is ignored
        (1, "1.2.3.4", "1.2.3.4"),  # one load balancer appended the client's address
        (1, "6.6.6.6, 1.2.3.4", "1.2.3.4"),  # what the client wrote itself is skipped
        (2, "6.6.6.6, 1.2.3.4, 10.0.0.2", "1.2.3.4"),
        (3, "1.2.3.4", "1.2.3.4"),  # fewer hops than proxies: the left-most one
        (1, "not-an-ip", "10.0.0.1"),  # garbage falls back to the connection
        (1, "", "10.0.0.1"),
    ],
)
def test_client_ip_reads_forwarded_for_only_through_trusted_proxies(settings, trusted, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = trusted
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.1", **extra)) == expected


@pytest.mark.django_db
def test_clients_behind_a_proxy_get_their_own_rate_limit_bucket(settings, api_client):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "read": "2/m"}
    url = "/v1/store/categories"
    for _ in range(2):
        assert api_client.get(url, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    assert api_client.get(url, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 429
    # Another client behind the same load balancer is not refused.
    assert api_client.get(url, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 200


def test_absolute_urls_use_site_url_when_set(settings):
    settings.SITE_URL = "https://store.example.com/"
    assert absolute_url("/v1/x") == "https://store.example.com/v1/x"


def test_absolute_urls_outside_a_request_fall_back_to_the_embedded_address(settings):
    settings.SITE_URL = ""
    settings.DEFAULT_SITE_URL = "http://127.0.0.1:8000"  # the setting's default (tests use the client's host)
    assert absolute_url("/v1/x") == "http://127.0.0.1:8000/v1/x"


@pytest.mark.django_db
def test_upload_urls_follow_the_host_the_store_is_served_from(settings, user, auth_client, no_ratelimits):
    from tests.factories import AppFactory

    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    app = AppFactory(owner=user)
    response = auth_client.post(
        f"/v1/apps/{app.pk}/versions",
        {"version_name": "1.0.0", "version_code": 1},
        format="json",
        HTTP_HOST="127.0.0.1:8123",
    )
    assert response.status_code == 201, response.content
    assert response.json()["upload_url"].startswith("http://127.0.0.1:8123/v1/uploads/")
