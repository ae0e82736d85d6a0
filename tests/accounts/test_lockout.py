"""Brute-force lockout of password sign-in (issue "Trust" §3): per account and per IP, on /v1/auth/token,
/admin/login/ and allauth's /accounts/login/, with a cool-down, a log line and a metric; a locked account
answers exactly like a locked name that belongs to nobody."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_ratelimits")]
PASSWORD = "correct-horse-battery"
LIMIT = 3


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def api_sign_in(email, password, ip="203.0.113.10"):
    return APIClient(REMOTE_ADDR=ip).post(
        "/v1/auth/token", {"email": email, "password": password}, format="json"
    )


def metric(name, surface):
    return REGISTRY.get_sample_value(name, {"surface": surface}) or 0


def test_api_locks_an_account_after_the_limit_even_for_the_right_password(user, caplog):
    """Today's code let a guesser try forever; from a new IP each time, only the per-account count stops it."""
    failures_before = metric("mosis_login_failures_total", "api")
    lockouts_before = metric("mosis_login_lockouts_total", "api")
    statuses = [api_sign_in(user.email, "wrong", ip=f"198.51.100.{n}").status_code for n in range(LIMIT - 1)]
    assert statuses == [401] * (LIMIT - 1)
    with caplog.at_level("WARNING", logger="mosis.accounts"):
        locking = api_sign_in(user.email, "wrong", ip="198.51.100.99")
    assert locking.status_code == 429
    refused = api_sign_in(user.email, PASSWORD, ip="192.0.2.1")  # the owner, from elsewhere, right password
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert set(error) == {"code", "message", "details", "request_id"}
    assert int(refused["Retry-After"]) == 15 * 60
    assert metric("mosis_login_failures_total", "api") == failures_before + LIMIT + 1
    assert metric("mosis_login_lockouts_total", "api") >= lockouts_before + 2
    assert "sign-in locked out surface=api ip=198.51.100.99" in caplog.text
    assert user.email not in caplog.text  # the name tried is logged as a hash
    # Other accounts are unaffected.
    other = UserFactory(password=PASSWORD)
    assert api_sign_in(other.email, PASSWORD, ip="192.0.2.1").status_code == 200


def test_a_locked_account_and_a_locked_name_that_belongs_to_nobody_answer_the_same(user):
    for email in (user.email, "nobody-here@example.com"):
        for n in range(LIMIT):
            api_sign_in(email, "wrong", ip=f"198.51.100.{n}")
    real = api_sign_in(user.email, PASSWORD, ip="192.0.2.1")
    ghost = api_sign_in("nobody-here@example.com", PASSWORD, ip="192.0.2.2")
    assert real.status_code == ghost.status_code == 429
    assert real.json()["error"]["message"] == ghost.json()["error"]["message"]
    assert real.json()["error"]["details"] == ghost.json()["error"]["details"]
    assert real["Retry-After"] == ghost["Retry-After"]
    # Before the limit both are the same 401 as well.
    fresh = UserFactory(password=PASSWORD)
    assert (
        api_sign_in(fresh.email, "wrong").json()["error"]["message"]
        == (api_sign_in("ghost-2@example.com", "wrong").json()["error"]["message"])
    )


def test_api_locks_an_address_that_sprays_many_accounts(db):
    """Per IP: one address trying one password on many names is stopped too."""
    users = [UserFactory(password=PASSWORD) for _ in range(LIMIT + 1)]
    statuses = [api_sign_in(u.email, "Winter2026!", ip="203.0.113.77").status_code for u in users]
    assert statuses[: LIMIT - 1] == [401] * (LIMIT - 1)
    assert statuses[LIMIT - 1 :] == [429, 429]
    assert api_sign_in(users[0].email, PASSWORD, ip="203.0.113.77").status_code == 429
    assert api_sign_in(users[0].email, PASSWORD, ip="203.0.113.78").status_code == 200


def test_the_lock_ends_after_the_cool_off_and_attempts_while_locked_do_not_extend_it(user):
    for n in range(LIMIT):
        api_sign_in(user.email, "wrong", ip=f"198.51.100.{n}")
    assert api_sign_in(user.email, "wrong", ip="198.51.100.50").status_code == 429  # not counted
    assert AccessAttempt.objects.filter(username=user.email).count() == LIMIT
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert api_sign_in(user.email, PASSWORD, ip="192.0.2.1").status_code == 200


def test_staff_unlock_an_account_with_the_axes_command(user):
    for n in range(LIMIT):
        api_sign_in(user.email, "wrong", ip=f"198.51.100.{n}")
    assert api_sign_in(user.email, PASSWORD, ip="192.0.2.1").status_code == 429
    call_command("axes_reset_username", user.email)
    assert api_sign_in(user.email, PASSWORD, ip="192.0.2.1").status_code == 200


def test_the_account_name_is_counted_case_insensitively(user):
    for n in range(LIMIT):
        api_sign_in(user.email.upper() if n % 2 else user.email, "wrong", ip=f"198.51.100.{n}")
    assert api_sign_in(user.email, PASSWORD, ip="192.0.2.1").status_code == 429


def test_the_client_ip_is_read_through_the_trusted_proxies(db, settings):
    """Behind a load balancer every client shares REMOTE_ADDR: the count must follow X-Forwarded-For."""
    settings.TRUSTED_PROXY_COUNT = 1
    lb = "10.0.0.2"
    for n in range(LIMIT):
        APIClient(REMOTE_ADDR=lb, HTTP_X_FORWARDED_FOR="198.51.100.7").post(
            "/v1/auth/token", {"email": f"spray{n}@example.com", "password": "x"}, format="json"
        )
    victim = UserFactory(password=PASSWORD)
    neighbour = APIClient(REMOTE_ADDR=lb, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert (
        neighbour.post(
            "/v1/auth/token", {"email": victim.email, "password": PASSWORD}, format="json"
        ).status_code
        == 200
    )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}


def admin_login(client, email, password):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password})


def test_admin_login_locks_after_the_limit(staff_user):
    staff_user.set_password(PASSWORD)
    staff_user.save()
    before = metric("mosis_login_lockouts_total", "admin")
    for n in range(LIMIT - 1):
        assert (
            admin_login(Client(REMOTE_ADDR=f"198.51.100.{n}"), staff_user.email, "wrong").status_code == 200
        )
    assert admin_login(Client(REMOTE_ADDR="198.51.100.9"), staff_user.email, "wrong").status_code == 429
    locked = admin_login(Client(REMOTE_ADDR="192.0.2.1"), staff_user.email, PASSWORD)
    assert locked.status_code == 429
    assert b"Too many sign-in attempts" in locked.content
    assert locked["Retry-After"] == str(15 * 60)
    assert metric("mosis_login_lockouts_total", "admin") >= before + 2
    for n in range(LIMIT):
        admin_login(Client(REMOTE_ADDR=f"192.0.2.{10 + n}"), "ghost@example.com", "wrong")
    ghost = admin_login(Client(REMOTE_ADDR="192.0.2.20"), "ghost@example.com", PASSWORD)
    assert ghost.status_code == 429
    assert ghost.content == locked.content


def test_browser_sign_in_locks_after_the_limit_and_shows_the_same_page_for_any_name(user, settings):
    settings.ACCOUNT_RATE_LIMITS = False  # allauth's own per-minute limit would answer first in a fast test
    before = metric("mosis_login_failures_total", "browser")
    for n in range(LIMIT - 1):
        response = Client(REMOTE_ADDR=f"198.51.100.{n}").post(
            "/accounts/login/", {"login": user.email, "password": "wrong"}
        )
        assert response.status_code == 200
    client = Client(REMOTE_ADDR="192.0.2.1")
    client.post("/accounts/login/", {"login": user.email, "password": "wrong"})
    locked = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session
    assert metric("mosis_login_failures_total", "browser") >= before + LIMIT
    for n in range(LIMIT):
        Client(REMOTE_ADDR=f"192.0.2.{20 + n}").post(
            "/accounts/login/", {"login": "ghost@example.com", "password": "wrong"}
        )
    ghost = Client(REMOTE_ADDR="192.0.2.30").post(
        "/accounts/login/", {"login": "ghost@example.com", "password": PASSWORD}
    )
    assert ghost.status_code == 429
    strip = lambda body: body.replace(b"ghost@example.com", b"").replace(user.email.encode(), b"")  # noqa: E731
    assert strip(ghost.content) == strip(locked.content)


def test_the_lockout_can_be_turned_off(user, settings):
    settings.AXES_ENABLED = False
    for n in range(LIMIT + 2):
        assert api_sign_in(user.email, "wrong", ip=f"198.51.100.{n}").status_code == 401
    assert api_sign_in(user.email, PASSWORD).status_code == 200
