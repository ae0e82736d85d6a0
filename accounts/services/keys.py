"""API keys and signing keys of a developer (SPEC §4, §5 Keys and Signing keys).

Secrets (API key secrets) are returned to the caller once and never logged: log lines carry ids and prefixes.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from mosis.core.errors import ApplicationError, ErrorCode
from mosis_package.signatures import InvalidPublicKey, parse_public_key

from ..constants import ALL_SCOPES
from ..models import ApiKey, SigningKey, User
from ..tokens import hash_secret, new_api_key_secret

logger = logging.getLogger("mosis.accounts")

KEY_PREFIX_LENGTH = 12
MAX_ACTIVE_SIGNING_KEYS = 50


def _check_scopes(*, requested: list[str], granter_scopes: frozenset[str]) -> list[str]:
    unknown = sorted(set(requested) - ALL_SCOPES)
    if unknown:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"Unknown scope(s): {', '.join(unknown)}. Known scopes: {', '.join(sorted(ALL_SCOPES))}.",
            {"permissions": [f"Unknown scope: {s}" for s in unknown]},
        )
    if not requested:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, "Give the key at least one scope.", {"permissions": ["Required."]}
        )
    lacking = sorted(set(requested) - granter_scopes)
    if lacking:
        raise ApplicationError(
            ErrorCode.FORBIDDEN,
            f"This credential cannot grant scope(s) it lacks: {', '.join(lacking)}.",
            {"permissions": [f"Cannot grant '{s}'." for s in lacking]},
        )
    return sorted(set(requested))


@transaction.atomic
def api_key_create(
    *,
    user: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    granter_scopes: frozenset[str] = ALL_SCOPES,
) -> tuple[ApiKey, str]:
    """Create a key and return it with its secret; the secret exists nowhere else (only its SHA-256 is kept).

    ``granter_scopes`` are the scopes of the credential asking: a key can never be given more than that.
    """
    scopes = _check_scopes(requested=scopes, granter_scopes=granter_scopes)
    name = (name or "").strip()
    if not name:
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, "A name is required.", {"name": ["Required."]})
    if expires_at is not None and expires_at <= timezone.now():
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "expires_at must be in the future.",
            {"expires_at": ["Must be in the future."]},
        )
    User.objects.select_for_update().filter(pk=user.pk).first()  # serialise the per-user cap check
    limit = settings.MAX_ACTIVE_API_KEYS_PER_USER
    active = ApiKey.objects.filter(user=user, revoked_at__isnull=True).exclude(expires_at__lte=timezone.now())
    if active.count() >= limit:
        # A developer's keys share one rate-limit budget already; the cap keeps one account from minting an
        # unbounded number of credentials (each one a secret to leak and a row to scan).
        raise ApplicationError(
            ErrorCode.CONFLICT,
            f"At most {limit} active API keys per developer (MAX_ACTIVE_API_KEYS_PER_USER); "
            "revoke one before creating another.",
            {"keys": [f"Limit of {limit} active keys reached."]},
        )
    secret = new_api_key_secret()
    key = ApiKey.objects.create(
        user=user,
        name=name,
        key_prefix=secret[:KEY_PREFIX_LENGTH],
        key_hash=hash_secret(secret),
        scopes=scopes,
        expires_at=expires_at,
    )
    logger.info("api key created id=%s prefix=%s user=%s scopes=%s", key.pk, key.key_prefix, user.pk, scopes)
    return key, secret


@transaction.atomic
def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Set ``revoked_at`` (kept for the audit trail); revoking twice is a no-op."""
    key = ApiKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at", "updated_at"])
    logger.info("api key revoked id=%s prefix=%s user=%s", key.pk, key.key_prefix, key.user_id)
    return key


# --- Signing keys ------------------------------------------------------------------------------------------


@transaction.atomic
def signing_key_register(*, user: User, name: str, public_key: str) -> SigningKey:
    """Parse the PEM (Ed25519, ECDSA P-256, RSA 2048..8192), fingerprint it, refuse a duplicate with 409."""
    name = (name or "").strip()
    if not name:
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, "A name is required.", {"name": ["Required."]})
    try:
        algorithm, fingerprint = parse_public_key(public_key)
    except InvalidPublicKey as exc:
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, str(exc), {"public_key": [str(exc)]}) from None
    existing = SigningKey.objects.filter(user=user, fingerprint=fingerprint).first()
    if existing is not None:
        state = "a revoked key" if existing.revoked_at else "an active key"
        raise ApplicationError(
            ErrorCode.CONFLICT,
            f"This public key is already registered as {state} ('{existing.name}', id {existing.pk}).",
            {"public_key": ["Already registered."]},
        )
    User.objects.select_for_update().filter(pk=user.pk).first()
    if SigningKey.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_SIGNING_KEYS:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"At most {MAX_ACTIVE_SIGNING_KEYS} active signing keys; revoke one first.",
        )
    try:
        with transaction.atomic():
            key = SigningKey.objects.create(
                user=user,
                name=name,
                algorithm=algorithm,
                public_key=public_key.strip() + "\n",
                fingerprint=fingerprint,
            )
    except IntegrityError:  # a concurrent registration of the same key won
        raise ApplicationError(
            ErrorCode.CONFLICT,
            "This public key is already registered.",
            {"public_key": ["Already registered."]},
        ) from None
    logger.info("signing key registered id=%s user=%s fingerprint=%s", key.pk, user.pk, fingerprint)
    return key


@transaction.atomic
def signing_key_revoke(*, key: SigningKey) -> SigningKey:
    """Set ``revoked_at`` and keep the record: versions already published with it stay verifiable."""
    key = SigningKey.objects.select_for_update().get(pk=key.pk)
    if key.revoked_at is not None:
        return key
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at", "updated_at"])
    logger.info("signing key revoked id=%s user=%s", key.pk, key.user_id)
    return key
