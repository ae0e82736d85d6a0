"""Writes on developers and their credentials (SPEC §4): JWT pairs, OAuth, API keys, signing keys, devices.

Every function takes keyword-only arguments and raises :class:`ApplicationError` for business failures.
Secrets (API key secrets, device tokens, refresh tokens) are returned to the caller once and never logged:
log lines carry ids and prefixes only. No function takes the HTTP request: what a library needs it for is
done before, by the view (the password check with its lockout, ``accounts.lockout``) or behind an object the
view makes (allauth's provider machinery, ``accounts.oauth.ProviderClient``).
"""

from .devices import device_register, device_revoke
from .jwt import (
    TokenPair,
    token_family,
    token_family_revoke,
    token_logout,
    token_obtain,
    token_pair_for,
    token_refresh,
)
from .keys import api_key_create, api_key_revoke, signing_key_register, signing_key_revoke
from .oauth import oauth_complete, oauth_start, social_user_from_profile

__all__ = [
    "TokenPair",
    "api_key_create",
    "api_key_revoke",
    "device_register",
    "device_revoke",
    "oauth_complete",
    "oauth_start",
    "signing_key_register",
    "signing_key_revoke",
    "social_user_from_profile",
    "token_family",
    "token_family_revoke",
    "token_logout",
    "token_obtain",
    "token_pair_for",
    "token_refresh",
]
