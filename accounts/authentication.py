"""Every DRF authentication class of the project: the three API credentials of SPEC §4 (API keys, device
tokens, JWTs) and the operator's ``METRICS_TOKEN``. Their OpenAPI security schemes are in ``accounts.schema``."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication

from mosis.core.db import CompiledQuery

from .constants import API_KEY_PREFIX, DEVICE_TOKEN_PREFIX
from .models import ApiKey, Device
from .tokens import hash_secret

TOUCH_INTERVAL = timedelta(minutes=1)
MAX_CREDENTIAL_LENGTH = 512


def _bearer(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    return None


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer mk_live_...`` or ``X-API-Key: mk_live_...``; revoked or expired keys are 401."""

    def authenticate(self, request):
        secret = request.META.get("HTTP_X_API_KEY") or _bearer(request)
        if not secret or not secret.startswith(API_KEY_PREFIX):
            return None
        if len(secret) > MAX_CREDENTIAL_LENGTH:
            raise exceptions.AuthenticationFailed("Invalid API key.")
        key = ApiKey.objects.select_related("user").filter(key_hash=hash_secret(secret)).first()
        now = timezone.now()
        if key is None or key.revoked_at is not None or not key.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        if key.expires_at is not None and key.expires_at <= now:
            raise exceptions.AuthenticationFailed("API key expired.")
        if key.last_used_at is None or key.last_used_at < now - TOUCH_INTERVAL:
            # At most one write a minute per key, not one per request.
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return key.user, key

    def authenticate_header(self, request):
        return "Bearer"


_DEVICE_COLUMNS = tuple(field.attname for field in Device._meta.concrete_fields)
# Every device's telemetry request starts with this lookup: on PostgreSQL it is compiled once per process and
# run as a prepared statement (``mosis.core.db``), which also stands in for Django's per-request health check.
_DEVICE_BY_TOKEN = CompiledQuery(
    lambda token_hash: Device.objects.filter(token_hash=token_hash, revoked_at__isnull=True).values_list(
        *_DEVICE_COLUMNS
    )[:1],
    token_hash="\x00probe:token_hash",
)


def active_device_for(token_hash: str) -> Device | None:
    """The unrevoked device whose token hashes to ``token_hash``, or None."""
    if connection.vendor != "postgresql":
        return Device.objects.filter(token_hash=token_hash, revoked_at__isnull=True).first()
    row = _DEVICE_BY_TOKEN.fetch_one(token_hash=token_hash)
    # psycopg returns these columns as the model holds them (uuid, str, aware datetime): no converter needed.
    return Device.from_db(connection.alias, _DEVICE_COLUMNS, row) if row is not None else None


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer md_...``: ``request.user`` stays anonymous, ``request.auth`` is the Device."""

    def authenticate(self, request):
        token = _bearer(request)
        if not token or not token.startswith(DEVICE_TOKEN_PREFIX):
            return None
        if len(token) > MAX_CREDENTIAL_LENGTH:
            raise exceptions.AuthenticationFailed("Invalid device token.")
        device = active_device_for(hash_secret(token))
        if device is None:
            raise exceptions.AuthenticationFailed("Invalid device token.")
        now = timezone.now()
        if device.last_seen_at is None or device.last_seen_at < now - TOUCH_INTERVAL:
            Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        return AnonymousUser(), device

    def authenticate_header(self, request):
        return "Bearer"


class JWTAuthentication(SimpleJWTAuthentication):
    """simplejwt access tokens; leaves ``mk_live_``/``md_`` bearer values to the classes above."""

    def authenticate(self, request):
        token = _bearer(request)
        if token and (token.startswith(API_KEY_PREFIX) or token.startswith(DEVICE_TOKEN_PREFIX)):
            return None
        if token and len(token) > 4096:
            raise exceptions.AuthenticationFailed("Invalid token.")
        return super().authenticate(request)


# ``request.auth`` of a request that presented the metrics token (it identifies no user).
METRICS_TOKEN_AUTH = "metrics-token"


class MetricsTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <METRICS_TOKEN>`` for operators' scrapers (only when the setting is set);
    ``request.user`` stays anonymous, ``request.auth`` is ``METRICS_TOKEN_AUTH``. Anything else is left to the
    next class."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        token = settings.METRICS_TOKEN
        if token and header.startswith("Bearer ") and constant_time_compare(header[7:].strip(), token):
            return None, METRICS_TOKEN_AUTH
        return None

    def authenticate_header(self, request):
        return "Bearer"
