"""Writes on developers and their credentials (SPEC §4): JWT pairs, OAuth, API keys, signing keys, devices.

Every function takes keyword-only arguments and raises :class:`ApplicationError` for business failures.
Secrets (API key secrets, device tokens, refresh tokens) are returned to the caller once and never logged:
the log lines below carry ids and prefixes only.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import RefreshToken

from mosis.core.errors import ApplicationError, ErrorCode
from mosis.core.siteurl import absolute_url
from mosis_package.signatures import InvalidPublicKey, parse_public_key
from versions.constants import mosis_version_number

from . import oauth
from .constants import ALL_SCOPES
from .models import ApiKey, Device, SigningKey, User
from .tokens import hash_secret, new_api_key_secret, new_device_token

logger = logging.getLogger("mosis.accounts")

KEY_PREFIX_LENGTH = 12
MAX_ACTIVE_API_KEYS = 100
MAX_ACTIVE_SIGNING_KEYS = 50
OAUTH_STATE_CACHE_PREFIX = "oauth-state:"


# --- JWT ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str


def token_pair_for(*, user: User) -> TokenPair:
    """A fresh access/refresh pair; the refresh token is recorded as outstanding so it can be blacklisted."""
    refresh = RefreshToken.for_user(user)
    return TokenPair(access_token=str(refresh.access_token), refresh_token=str(refresh))


def token_obtain(*, email: str, password: str) -> tuple[User, TokenPair]:
    """Email + password → pair. Unknown email, wrong password, no password or inactive: the same 401."""
    user = authenticate(email=(email or "").strip().lower(), password=password)
    if user is None or not user.is_active:
        raise ApplicationError(ErrorCode.UNAUTHORIZED, "Invalid email or password.")
    return user, token_pair_for(user=user)


def _refresh_token(raw: str) -> RefreshToken:
    """Parse and verify (signature, expiry, type, blacklist) a refresh token."""
    try:
        return RefreshToken(raw)
    except TokenError:
        raise ApplicationError(
            ErrorCode.UNAUTHORIZED, "The refresh token is invalid, expired or revoked."
        ) from None


def token_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: blacklist the given refresh token and issue a new pair.

    The blacklist row is created with ``get_or_create`` on a unique column, so of two concurrent refreshes
    with the same token only one wins; the loser (and any later reuse) gets 401.
    """
    token = _refresh_token(refresh_token)
    user = User.objects.filter(pk=token.payload.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None:
        raise ApplicationError(ErrorCode.UNAUTHORIZED, "The refresh token's user is not active.")
    with transaction.atomic():
        _, created = token.blacklist()
        if not created:
            raise ApplicationError(ErrorCode.UNAUTHORIZED, "The refresh token was already used.")
        return token_pair_for(user=user)


def token_logout(*, user: User, refresh_token: str) -> None:
    """Blacklist the caller's refresh token; a token of another user is refused like an invalid one."""
    try:
        token = RefreshToken(refresh_token)
    except TokenError:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "The refresh token is invalid, expired or already revoked.",
            {"refresh_token": ["Invalid, expired or already revoked."]},
        ) from None
    if str(token.payload.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "The refresh token does not belong to the signed-in user.",
            {"refresh_token": ["Does not belong to the signed-in user."]},
        )
    token.blacklist()


# --- OAuth (API flow) --------------------------------------------------------------------------------------


def _oauth_provider_or_404(provider: str) -> None:
    if not oauth.provider_is_enabled(provider):
        raise ApplicationError(ErrorCode.NOT_FOUND, f"Sign-in provider '{provider[:40]}' is not available.")


def oauth_redirect_uri(*, provider: str) -> str:
    return absolute_url(reverse("oauth-callback", kwargs={"provider": provider}))


def oauth_start(*, provider: str) -> str:
    """The provider's authorize URL with a fresh single-use ``state`` kept in the cache for OAUTH_STATE_TTL."""
    _oauth_provider_or_404(provider)
    state = secrets.token_urlsafe(32)
    cache.set(OAUTH_STATE_CACHE_PREFIX + state, {"provider": provider}, timeout=settings.OAUTH_STATE_TTL)
    return oauth.authorize_url(
        provider=provider, state=state, redirect_uri=oauth_redirect_uri(provider=provider)
    )


def _oauth_state_consume(*, provider: str, state: str) -> None:
    """Single use: the state is deleted on first sight; a missing, expired, replayed or foreign one is a 400."""
    bad = ApplicationError(
        ErrorCode.VALIDATION_ERROR,
        "The sign-in state is unknown, expired or already used; start the sign-in again.",
        {"state": ["Unknown, expired or already used."]},
    )
    if not state or len(state) > 128:
        raise bad
    key = OAUTH_STATE_CACHE_PREFIX + state
    data = cache.get(key)
    if data is None or not cache.delete(key):
        raise bad
    if data.get("provider") != provider:
        raise bad


def oauth_complete(*, provider: str, code: str, state: str, error: str = "") -> tuple[User, TokenPair]:
    """Check the state, exchange the code, fetch the profile, create or link the user, issue a pair."""
    _oauth_provider_or_404(provider)
    _oauth_state_consume(provider=provider, state=state)
    if error:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            f"The sign-in provider reported: {error[:200]}",
            {"error": [error[:200]]},
        )
    if not code:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, "The provider sent no authorization code.", {"code": ["Required."]}
        )
    try:
        access_token = oauth.exchange_code(
            provider=provider, code=code, redirect_uri=oauth_redirect_uri(provider=provider)
        )
        profile = oauth.fetch_profile(provider=provider, access_token=access_token)
    except oauth.ProviderError as exc:
        logger.warning("oauth provider failure provider=%s: %s", provider, exc)
        raise ApplicationError(ErrorCode.VALIDATION_ERROR, str(exc)) from None
    try:
        user = social_user_from_profile(profile=profile)
    except IntegrityError:
        # Two first sign-ins of the same identity raced (unique email / provider uid): the winner's rows
        # exist now, so a second pass finds and returns them.
        user = social_user_from_profile(profile=profile)
    if not user.is_active:
        raise ApplicationError(ErrorCode.UNAUTHORIZED, "This account is disabled.")
    return user, token_pair_for(user=user)


@transaction.atomic
def social_user_from_profile(*, profile: oauth.ProviderProfile) -> User:
    """Find, link or create the user of a provider identity, recorded as an allauth ``SocialAccount``.

    1. A known (provider, uid) is that account's user.
    2. Else the provider's email must be *verified*: if it matches an existing user the identity is linked to
       that user, otherwise a new user is created. An unverified email is refused either way: linking on it
       would let anyone who types a victim's address at the provider take the account over, and creating an
       account on it would let them squat the address before its owner signs up (pre-account takeover).
    """
    account = (
        SocialAccount.objects.select_related("user")
        .filter(provider=profile.provider, uid=profile.uid)
        .first()
    )
    if account is not None:
        user = account.user
        account.extra_data = profile.extra_data
        account.save(update_fields=["extra_data"])
    else:
        if not profile.email:
            raise ApplicationError(
                ErrorCode.VALIDATION_ERROR,
                "The sign-in provider did not share an email address; allow email access and try again.",
            )
        if not profile.email_verified:
            raise ApplicationError(
                ErrorCode.VALIDATION_ERROR,
                "The sign-in provider has not verified your email address; verify it there and try again.",
            )
        email = profile.email.strip().lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User.objects.create_user(
                email=email, name=profile.name, avatar_url=profile.avatar_url, verified=True
            )
            logger.info("user created via oauth provider=%s user=%s", profile.provider, user.pk)
        SocialAccount.objects.create(
            user=user, provider=profile.provider, uid=profile.uid, extra_data=profile.extra_data
        )
        EmailAddress.objects.get_or_create(
            user=user,
            email=email,
            defaults={"verified": True, "primary": not user.emailaddress_set.exists()},
        )
        logger.info("oauth identity linked provider=%s user=%s", profile.provider, user.pk)
    changed = []
    same_email = (profile.email or "").strip().lower() == user.email.lower()
    if profile.email_verified and same_email and not user.verified:
        user.verified = True
        changed.append("verified")
    if profile.name and not user.name:
        user.name = profile.name
        changed.append("name")
    if profile.avatar_url and not user.avatar_url:
        user.avatar_url = profile.avatar_url
        changed.append("avatar_url")
    if changed:
        user.save(update_fields=[*changed, "updated_at"])
    return user


# --- API keys ----------------------------------------------------------------------------------------------


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
    if ApiKey.objects.filter(user=user, revoked_at__isnull=True).count() >= MAX_ACTIVE_API_KEYS:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, f"At most {MAX_ACTIVE_API_KEYS} active API keys; revoke one first."
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


# --- Devices -----------------------------------------------------------------------------------------------


def device_register(*, platform: str, mosis_version: str) -> tuple[Device, str]:
    """A new device and its ``md_`` token (returned once; only the SHA-256 is stored)."""
    platform = (platform or "").strip()
    if not platform:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR, "platform is required.", {"platform": ["Required."]}
        )
    try:
        if mosis_version_number(mosis_version) is None:
            raise ValueError
    except ValueError:
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "mosis_version must look like 1.2 or 1.2.3.",
            {"mosis_version": ["Expected MAJOR.MINOR[.PATCH], each at most 3 digits."]},
        ) from None
    token = new_device_token()
    device = Device.objects.create(
        platform=platform, mosis_version=mosis_version, token_hash=hash_secret(token)
    )
    logger.info("device registered id=%s platform=%s", device.pk, platform)
    return device, token


@transaction.atomic
def device_revoke(*, device: Device) -> Device:
    """Its token stops authenticating at once; the record stays for telemetry history."""
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.revoked_at is not None:
        return device
    device.revoked_at = timezone.now()
    device.save(update_fields=["revoked_at", "updated_at"])
    logger.info("device revoked id=%s", device.pk)
    return device
