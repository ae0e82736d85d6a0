"""Prometheus metrics of the accounts app (served at ``/metrics`` by django-prometheus)."""

from prometheus_client import Counter

LOGIN_FAILURES = Counter(
    "mosis_login_failures_total",
    "Failed password sign-ins, by surface (api: /v1/auth/token, admin: /admin/login/, browser: /accounts/login/)",
    ["surface"],
)
LOGIN_LOCKOUTS = Counter(
    "mosis_login_lockouts_total",
    "Password sign-ins refused by the brute-force lockout (each refused attempt counts), by surface",
    ["surface"],
)
REFRESH_TOKEN_REUSE = Counter(
    "mosis_refresh_token_reuse_total",
    "Rotated refresh tokens presented again; each revoked its whole token family",
)
