"""Webhook secrets: generated with ``secrets``, kept encrypted at rest (Fernet, from ``cryptography``), and the
delivery signature ``sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`` (``hmac``).

The key is derived from ``SECRET_KEY``; ``SECRET_KEY_FALLBACKS`` still decrypt, so rotating the Django
secret keeps every webhook working (re-encrypt by deleting and re-creating, or let the old key stay in the
fallbacks).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

SECRET_PREFIX = "whsec_"
SIGNATURE_PREFIX = "sha256="


def _fernet_for(secret_key: str) -> Fernet:
    digest = hashlib.sha256(f"mosis.webhook-secret:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(key) for key in keys])


def secret_generate() -> str:
    """``whsec_`` + 256 random bits."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


class SecretUnavailable(Exception):
    """The stored secret was encrypted under a key that is neither SECRET_KEY nor one of its fallbacks."""


def secret_decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnavailable("the webhook secret cannot be decrypted with SECRET_KEY or its fallbacks")


def signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Mosis-Signature`` value for ``body`` sent at ``timestamp`` (Unix seconds, as sent)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + mac.hexdigest()
