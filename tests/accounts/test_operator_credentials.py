"""The operator's credential (``METRICS_TOKEN``) and its permission, in accounts/ with every other
authentication and permission class: the token or a staff member's credential opens operators' reads."""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.authentication import JWTAuthentication, MetricsTokenAuthentication
from accounts.permissions import IsStaffOrMetricsToken

pytestmark = pytest.mark.django_db

TOKEN = "operator-secret-token"


class OperatorsRead(APIView):
    authentication_classes = [MetricsTokenAuthentication, JWTAuthentication]
    permission_classes = [IsStaffOrMetricsToken]

    def get(self, request):
        return Response({"ok": True})


def answer(authorization: str | None = None):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    return OperatorsRead.as_view()(APIRequestFactory().get("/v1/ops", **headers))


def bearer_jwt(user) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


def test_the_metrics_token_opens_it(settings):
    settings.METRICS_TOKEN = TOKEN
    assert answer(f"Bearer {TOKEN}").status_code == 200


def test_a_wrong_token_or_none_is_a_401(settings):
    settings.METRICS_TOKEN = TOKEN
    assert answer("Bearer not-the-token").status_code == 401
    assert answer().status_code == 401


def test_without_the_setting_no_token_is_accepted(settings):
    settings.METRICS_TOKEN = ""
    assert answer("Bearer ").status_code == 401


def test_staff_may_and_other_developers_may_not(settings, staff_user, user):
    settings.METRICS_TOKEN = TOKEN
    assert answer(bearer_jwt(staff_user)).status_code == 200
    refused = answer(bearer_jwt(user))
    assert refused.status_code == 403
    assert refused.data["error"]["message"] == "Staff or the metrics token only."
