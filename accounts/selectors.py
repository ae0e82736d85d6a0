"""Reads on developers' credentials, shared by the API, the admin and the portal."""

from __future__ import annotations

from django.db.models import QuerySet

from mosis.core.errors import ApplicationError, ErrorCode

from .models import ApiKey, SigningKey, User


def api_key_list(*, user: User) -> QuerySet[ApiKey]:
    """The user's unrevoked keys, newest first (a DELETEd key leaves the list, as in seed 000; expired ones stay)."""
    return ApiKey.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-id")


def api_key_get(*, user: User, key_id) -> ApiKey:
    """One of the user's unrevoked keys; another user's key (or an unknown id) is a 404, never a 403."""
    key = ApiKey.objects.filter(user=user, pk=key_id).first()
    if key is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, "API key not found.")
    return key


def signing_key_list(*, user: User) -> QuerySet[SigningKey]:
    """Every signing key of the user, revoked ones included (they stay on record for published versions)."""
    return SigningKey.objects.filter(user=user).order_by("-created_at", "-id")


def signing_key_get(*, user: User, key_id) -> SigningKey:
    key = SigningKey.objects.filter(user=user, pk=key_id).first()
    if key is None:
        raise ApplicationError(ErrorCode.NOT_FOUND, "Signing key not found.")
    return key


def signing_key_active_for(*, user: User, key_id) -> SigningKey | None:
    """The user's unrevoked signing key with this id, for the upload pipeline (None if absent or revoked)."""
    return SigningKey.objects.filter(user=user, pk=key_id, revoked_at__isnull=True).first()
