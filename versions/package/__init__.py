"""The Mosis package format (`.mpk`) and its validator. Pure Python: no Django imports.

See docs/package-format.md for the developer-facing description.
"""

from .builder import build_package, make_icon_png
from .limits import ISSUE_CODES, Issue, Limits
from .manifest import MANIFEST_SCHEMA, PERMISSIONS, SENSITIVE_PERMISSIONS, check_manifest
from .signatures import (
    ALGORITHMS,
    InvalidPublicKey,
    fingerprint,
    generate_signing_key,
    parse_public_key,
    sign_file,
    verify_file_signature,
)
from .validator import Expected, PublicSigningKey, ValidationResult, validate_package

__all__ = [
    "ALGORITHMS",
    "ISSUE_CODES",
    "MANIFEST_SCHEMA",
    "PERMISSIONS",
    "SENSITIVE_PERMISSIONS",
    "Expected",
    "InvalidPublicKey",
    "Issue",
    "Limits",
    "PublicSigningKey",
    "ValidationResult",
    "build_package",
    "check_manifest",
    "fingerprint",
    "generate_signing_key",
    "make_icon_png",
    "parse_public_key",
    "sign_file",
    "validate_package",
    "verify_file_signature",
]
