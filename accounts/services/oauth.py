"""The API OAuth flow (SPEC §5 Auth): ``POST /v1/auth/oauth/{provider}`` → the provider URL, and the
callback → a JWT pair. The provider side is allauth's (``accounts.oauth``); the state, the account linking
rules and the JWT pair are ours.
"""

from __future__ import annotations

import logging
import re
import secrets

from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction

from mosis.core.errors import ApplicationError, ErrorCode

from .. import oauth
from ..models import User
from .jwt import TokenPair, token_pair_for

logger = logging.getLogger("mosis.accounts")

OAUTH_STATE_CACHE_PREFIX = "oauth-state:"
# What secrets.token_urlsafe makes: anything else was never issued, and never reaches a cache key.
OAUTH_STATE_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,128}")


def oauth_start(*, client: oauth.ProviderClient) -> str:
    """The provider's authorize URL with a fresh single-use ``state`` kept in the cache for OAUTH_STATE_TTL
    (with the PKCE verifier when the provider uses PKCE)."""
    state = secrets.token_urlsafe(32)
    url, verifier = client.authorize_url(state=state)
    cache.set(
        OAUTH_STATE_CACHE_PREFIX + state,
        {"provider": client.provider, "pkce_code_verifier": verifier},
        timeout=settings.OAUTH_STATE_TTL,
    )
    return url


def _oauth_state_consume(*, provider: str, state: str) -> dict:
    """Single use: the state is deleted on first sight; a missing, expired, replayed or foreign one is a 400."""
    bad = ApplicationError(
        ErrorCode.VALIDATION_ERROR,
        "The sign-in state is unknown, expired or already used; start the sign-in again.",
        {"state": ["Unknown, expired or already used."]},
    )
    if not OAUTH_STATE_PATTERN.fullmatch(state or ""):
        raise bad
    key = OAUTH_STATE_CACHE_PREFIX + state
    data = cache.get(key)
    if data is None or not cache.delete(key):
        raise bad
    if data.get("provider") != provider:
        raise bad
    return data


def oauth_complete(
    *, client: oauth.ProviderClient, code: str, state: str, error: str = ""
) -> tuple[User, TokenPair]:
    """Check the state, exchange the code, read the profile, create or link the user, issue a pair."""
    provider = client.provider
    stored = _oauth_state_consume(provider=provider, state=state)
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
        profile = client.profile_for_code(code=code, pkce_code_verifier=stored.get("pkce_code_verifier"))
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
