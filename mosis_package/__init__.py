"""The Mosis package format (`.mpk`): manifest schema and rules, ZIP checks, signatures and the validator.

Pure Python with no Django import, so the store (``versions``), the ``mosis`` CLI (``mosis_cli``) and anyone
who installs the project check a package with the same code. See docs/package-format.md.
"""

from .builder import build_package, make_icon_png
from .limits import ISSUE_CODES, ISSUE_FIXES, Issue, Limits
from .manifest import MANIFEST_SCHEMA, PERMISSIONS, SENSITIVE_PERMISSIONS, check_manifest
from .signatures import (
    ALGORITHMS,
    InvalidPrivateKey,
    InvalidPublicKey,
    file_sha256,
    fingerprint,
    generate_signing_key,
    load_private_key,
    parse_public_key,
    public_key_pem,
    sign_digest,
    sign_file,
    verify_file_signature,
)
from .validator import Expected, PublicSigningKey, ValidationResult, validate_package

__all__ = [
    "ALGORITHMS",
    "ISSUE_CODES",
    "ISSUE_FIXES",
    "MANIFEST_SCHEMA",
    "PERMISSIONS",
    "SENSITIVE_PERMISSIONS",
    "Expected",
    "InvalidPrivateKey",
    "InvalidPublicKey",
    "Issue",
    "Limits",
    "PublicSigningKey",
    "ValidationResult",
    "build_package",
    "check_manifest",
    "file_sha256",
    "fingerprint",
    "generate_signing_key",
    "load_private_key",
    "make_icon_png",
    "parse_public_key",
    "public_key_pem",
    "sign_digest",
    "sign_file",
    "validate_package",
    "verify_file_signature",
]
