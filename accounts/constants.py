from django.db import models


class Scope(models.TextChoices):
    """Credential scopes (seed 000). A developer's JWT holds all of them; an API key what it was given."""

    APPS_READ = "apps:read", "Read app metadata"
    APPS_WRITE = "apps:write", "Create/update apps"
    VERSIONS_UPLOAD = "versions:upload", "Upload new versions"
    VERSIONS_PUBLISH = "versions:publish", "Publish versions"
    TELEMETRY_READ = "telemetry:read", "Read analytics"
    TELEMETRY_WRITE = "telemetry:write", "Submit telemetry events and crash reports"
    KEYS_MANAGE = "keys:manage", "Manage API keys"


ALL_SCOPES = frozenset(Scope.values)

API_KEY_PREFIX = "mk_live_"
DEVICE_TOKEN_PREFIX = "md_"


class SigningAlgorithm(models.TextChoices):
    ED25519 = "ed25519", "Ed25519"
    ECDSA_P256 = "ecdsa-p256", "ECDSA P-256 (SHA-256)"
    RSA = "rsa", "RSA-PSS (SHA-256)"
