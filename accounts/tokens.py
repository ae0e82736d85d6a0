"""Secrets: generation and hashing of API keys and device tokens (never stored or logged in clear)."""

import hashlib
import secrets

from .constants import API_KEY_PREFIX, DEVICE_TOKEN_PREFIX


def hash_secret(secret: str) -> str:
    # SHA-256 is enough: the secrets carry >= 160 random bits (SPEC §4), a slow hash would only add latency.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_api_key_secret() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(30)  # 240 bits


def new_device_token() -> str:
    return DEVICE_TOKEN_PREFIX + secrets.token_urlsafe(30)
