"""``Idempotency-Key`` for POSTs that create or ingest (SPEC §3).

The first request with a key reserves it (a unique row per principal and key, so two concurrent requests
cannot both run); its response is stored and replayed for any repeat with the same body within 24 h. The
same key with another body, or while the first is still running, is a 409 ``CONFLICT``.

Only an authenticated principal (the developer behind a JWT or any of their API keys, or a device) has an
idempotency scope. An anonymous request is never answered from the store and never stored: its only
identity would be its IP address, which it shares with everyone behind the same NAT or proxy, and a stored
answer may hold a secret (``POST /v1/devices`` returns a device token) that a replay would hand to whoever
sends the same key next. An anonymous retry simply runs again.
"""

import base64
import functools
import hashlib
import json
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from .errors import ApplicationError, ErrorCode
from .models import IdempotencyRecord

MAX_KEY_LENGTH = 255


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"mosis.idempotency:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _seal(data) -> dict:
    """Stored responses can hold secrets shown once (a device token), so they are encrypted at rest."""
    plain = json.dumps(data, default=str).encode()
    return {"sealed": _fernet().encrypt(plain).decode()}


def _unseal(stored: dict):
    try:
        return json.loads(_fernet().decrypt(stored["sealed"].encode()))
    except (InvalidToken, KeyError, TypeError):
        # Sealed under an older SECRET_KEY: the first response cannot be replayed any more.
        raise ApplicationError(
            ErrorCode.CONFLICT,
            "This Idempotency-Key was used before and its response is no longer available.",
        )


def _body_hash(request) -> str:
    return hashlib.sha256(request.body or b"").hexdigest()


def idempotency_principal(request) -> str | None:
    """The principal an ``Idempotency-Key`` belongs to, or ``None`` for an anonymous request.

    A developer's keys, JWTs and browser session share one scope (``user:<id>``), as they share one
    rate-limit budget; a device token is ``device:<id>``.
    """
    user = getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    auth = getattr(request, "auth", None)
    if getattr(auth, "credential_kind", None) == "device" and getattr(auth, "pk", None):
        return f"device:{auth.pk}"
    return None


def idempotent(handler):
    """Decorate a DRF view method (``post``/``create``/an ``@action``) to honour ``Idempotency-Key``."""

    @functools.wraps(handler)
    def wrapper(view, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if not key:
            return handler(view, request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH or not key.isprintable():
            raise ApplicationError(
                ErrorCode.VALIDATION_ERROR,
                "Idempotency-Key must be printable and at most 255 characters.",
                {"Idempotency-Key": ["Invalid value."]},
            )
        client = idempotency_principal(request)
        if client is None:
            return handler(view, request, *args, **kwargs)
        body_hash = _body_hash(request)
        cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
        IdempotencyRecord.objects.filter(client=client, key=key, created_at__lt=cutoff).delete()
        existing = IdempotencyRecord.objects.filter(client=client, key=key).first()
        if existing is None:
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        client=client, key=key, method=request.method, path=request.path, body_hash=body_hash
                    )
            except IntegrityError:
                existing = IdempotencyRecord.objects.filter(client=client, key=key).first()
        if existing is not None:
            if existing.body_hash != body_hash or existing.path != request.path:
                raise ApplicationError(
                    ErrorCode.CONFLICT, "This Idempotency-Key was already used with a different request."
                )
            if existing.status_code is None:
                raise ApplicationError(
                    ErrorCode.CONFLICT, "A request with this Idempotency-Key is in progress."
                )
            response = Response(_unseal(existing.response_body), status=existing.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            response = handler(view, request, *args, **kwargs)
        except Exception:
            record.delete()  # a failed attempt does not burn the key
            raise
        if response.status_code >= 500:
            record.delete()
        else:
            record.status_code = response.status_code
            record.response_body = _seal(response.data)
            record.save(update_fields=["status_code", "response_body"])
        return response

    return wrapper
