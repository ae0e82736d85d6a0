"""JWT access/refresh pairs (SPEC §4): sign-in, rotation with reuse detection, logout.

Every refresh token carries a ``family`` claim: the id of the sign-in it descends from. Rotation blacklists
the presented token (simplejwt's ``token_blacklist`` app) and issues a new one of the same family. A refresh
token presented again after it was rotated is a stolen copy or a stolen original — the server cannot tell
which — so the whole family is revoked: every live refresh token of that sign-in is blacklisted and the
legitimate holder signs in again (the "reuse detection" of OAuth 2.0 Security BCP §4.14). Access tokens
already issued are not revoked; they live out their ``JWT_ACCESS_MINUTES`` (15 by default).

Refresh tokens are never logged: log lines carry user ids, families and jti only.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, UntypedToken

from mosis.core.errors import ApplicationError, ErrorCode

from ..metrics import REFRESH_TOKEN_REUSE
from ..models import User

logger = logging.getLogger("mosis.accounts")

FAMILY_CLAIM = "family"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str


def token_family(token) -> str:
    """The family of a refresh token; a token issued before families existed is its own family."""
    return str(token.payload.get(FAMILY_CLAIM) or token.payload[jwt_settings.JTI_CLAIM])


def issued_at(token) -> datetime | None:
    """When the token was issued (a second early: ``iat`` is whole seconds, the stored time is not)."""
    iat = token.payload.get("iat")
    if not isinstance(iat, int | float):
        return None
    return datetime.fromtimestamp(iat, tz=UTC) - timedelta(seconds=1)


def token_pair_for(*, user: User, family: str | None = None) -> TokenPair:
    """A fresh access/refresh pair; the refresh token is recorded as outstanding (so it can be blacklisted)
    with its family claim. ``family`` is given on rotation; a new sign-in starts a new family."""
    refresh = RefreshToken.for_user(user)  # records the OutstandingToken row
    refresh[FAMILY_CLAIM] = family or uuid.uuid4().hex
    # The row was written before the claim existed; keep the stored text equal to the token handed out, since
    # family revocation reads the family back from it.
    OutstandingToken.objects.filter(jti=refresh[jwt_settings.JTI_CLAIM]).update(token=str(refresh))
    return TokenPair(access_token=str(refresh.access_token), refresh_token=str(refresh))


def token_obtain(*, user: User | None) -> TokenPair:
    """The pair of an email + password sign-in. ``user`` is who the password sign-in authenticated
    (``accounts.lockout.authenticate_with_lockout``, which the view calls: Django's ``authenticate`` and the
    lockout need the HTTP request): ``None`` (unknown email, wrong or no password) or an inactive user is the
    same 401."""
    if user is None or not user.is_active:
        raise ApplicationError(ErrorCode.UNAUTHORIZED, "Invalid email or password.")
    return token_pair_for(user=user)


def token_family_revoke(*, user_id, family: str, issued_since: datetime | None = None) -> int:
    """Blacklist every live refresh token of ``family``; returns how many were still live.

    Reads the user's live (unexpired, not blacklisted) outstanding tokens issued since ``issued_since`` (a
    family's live token descends from any token of it, so the presented token's ``iat`` bounds the scan),
    each decoded without verification (they are our own rows) to read its family.
    """
    live = OutstandingToken.objects.filter(
        user_id=user_id, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )
    if issued_since is not None:
        live = live.filter(created_at__gte=issued_since)
    revoked = 0
    for row in live:
        try:
            stored = RefreshToken(row.token, verify=False)
        except TokenError:
            continue
        if token_family(stored) == family:
            _, created = BlacklistedToken.objects.get_or_create(token=row)
            revoked += int(created)
    return revoked


def _refresh_reuse(raw: str) -> None:
    """Called when ``raw`` did not verify as a live refresh token. If it is a genuine (signed, unexpired)
    refresh token that was already rotated or revoked, that is reuse: revoke its family. Always raises 401."""
    try:
        token = UntypedToken(raw)  # signature, expiry, jti; no blacklist check
    except TokenError:
        raise ApplicationError(
            ErrorCode.UNAUTHORIZED, "The refresh token is invalid, expired or revoked."
        ) from None
    jti = token.payload.get(jwt_settings.JTI_CLAIM)
    used = token.payload.get("token_type") == "refresh" and BlacklistedToken.objects.filter(token__jti=jti)
    if used and used.exists():
        _family_revoked_for_reuse(token)
    raise ApplicationError(ErrorCode.UNAUTHORIZED, "The refresh token is invalid, expired or revoked.")


def _family_revoked_for_reuse(token) -> None:
    family = token_family(token)
    user_id = token.payload.get(jwt_settings.USER_ID_CLAIM)
    revoked = token_family_revoke(user_id=user_id, family=family, issued_since=issued_at(token))
    REFRESH_TOKEN_REUSE.inc()
    logger.warning(
        "refresh token reuse: family revoked user=%s family=%s jti=%s live_tokens_revoked=%d",
        user_id,
        family,
        token.payload.get(jwt_settings.JTI_CLAIM),
        revoked,
    )
    raise ApplicationError(
        ErrorCode.UNAUTHORIZED,
        "This refresh token was already used. Every session of this sign-in is revoked; sign in again.",
    )


def token_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: blacklist the given refresh token and issue a new pair of the same family.

    A token already rotated (or logged out) presented again revokes its whole family (see the module
    docstring). The blacklist row is created with ``get_or_create`` on a unique column, so of two concurrent
    refreshes with the same token only one wins; the loser is treated as reuse too.
    """
    try:
        token = RefreshToken(refresh_token)
    except TokenError:
        _refresh_reuse(refresh_token)
    user = User.objects.filter(pk=token.payload.get(jwt_settings.USER_ID_CLAIM), is_active=True).first()
    if user is None:
        raise ApplicationError(ErrorCode.UNAUTHORIZED, "The refresh token's user is not active.")
    with transaction.atomic():
        _, created = token.blacklist()
        if created:
            return token_pair_for(user=user, family=token_family(token))
    _family_revoked_for_reuse(token)


def token_logout(*, user: User, refresh_token: str) -> None:
    """End the sign-in the refresh token belongs to: blacklist it and every live token of its family, so a
    client that logs out with a token it has since rotated still ends its session (idempotent). A token of
    another user is refused like an invalid one and left alive."""
    invalid = ApplicationError(
        ErrorCode.VALIDATION_ERROR,
        "The refresh token is invalid or expired.",
        {"refresh_token": ["Invalid or expired."]},
    )
    try:
        verified = UntypedToken(refresh_token)  # signature and expiry; a rotated token is still ours
    except TokenError:
        raise invalid from None
    if verified.payload.get("token_type") != "refresh":
        raise invalid
    if str(verified.payload.get(jwt_settings.USER_ID_CLAIM)) != str(user.pk):
        raise ApplicationError(
            ErrorCode.VALIDATION_ERROR,
            "The refresh token does not belong to the signed-in user.",
            {"refresh_token": ["Does not belong to the signed-in user."]},
        )
    RefreshToken(refresh_token, verify=False).blacklist()  # verified above
    token_family_revoke(user_id=user.pk, family=token_family(verified), issued_since=issued_at(verified))
