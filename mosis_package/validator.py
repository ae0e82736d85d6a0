"""`validate_package`: every SPEC §7 check on a package file, producing a report of errors and warnings.

Contract:
* Pure function of the file and its arguments (no Django, no network, no writes); safe to re-run.
* Streams the file: SHA-256 in 1 MiB chunks, the ZIP checked record by record, entries inflated in chunks.
  The only things held whole in memory are the central-directory records, manifest.json (≤ 64 KiB) and
  the icon (≤ 512 KiB). The signature is verified against the SHA-256 of that one pass (every scheme signs
  the package's SHA-256, see `signatures`), so the file is hashed once.
* Fails closed: any unexpected exception becomes an `INTERNAL` error; it never propagates and the result
  is never `ok`.
* Keeps going after an error when later checks are still meaningful, so a developer sees every problem
  in one upload; stops the ZIP checks when the structure itself cannot be trusted.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import struct
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from PIL import Image

from . import zipcheck
from .limits import ERROR, WARNING, Issue, Limits
from .manifest import MANIFEST_NAME, check_manifest, is_language_tag
from .signatures import InvalidPublicKey, decode_signature, load_public_key, verify_file_signature

logger = logging.getLogger(__name__)

HASH_CHUNK = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NLS_PREFIX = "nls/"


@dataclass(frozen=True)
class Expected:
    """What the version record says the package must be."""

    package_id: str
    version_code: int
    version_name: str


@dataclass(frozen=True)
class PublicSigningKey:
    """A developer's registered signing key, as the validator needs it."""

    id: str
    fingerprint: str
    public_key_pem: str
    active: bool


@dataclass
class ValidationResult:
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    sha256: str | None = None
    size: int | None = None
    manifest: dict | None = None
    permissions: list[str] = field(default_factory=list)
    sensitive_permissions: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    dependencies: dict[str, str] = field(default_factory=dict)
    dependency_rules: dict[str, dict] = field(default_factory=dict)
    min_mosis_version: str | None = None
    max_mosis_version: str | None = None
    requires_restart: bool = False
    icon_png: bytes | None = None
    signing_key_id: str | None = None
    signing_key_fingerprint: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def report(self) -> dict:
        """JSON-serialisable report for the portal, the admin and the API."""
        return {
            "ok": self.ok,
            "errors": [issue.as_dict() for issue in self.errors],
            "warnings": [issue.as_dict() for issue in self.warnings],
            "sha256": self.sha256,
            "size": self.size,
        }


def validate_package(
    path: str | os.PathLike,
    *,
    expected: Expected,
    signature: str | None,
    signing_keys: Sequence[PublicSigningKey],
    require_signature: bool,
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe as a default
    signing_key_id: str | None = None,
) -> ValidationResult:
    """Validate the package at `path`; see the module docstring for the contract."""
    result = ValidationResult()
    issues: list[Issue] = []
    try:
        _PackageValidator(
            path=path,
            expected=expected,
            signature=signature,
            signing_keys=signing_keys,
            require_signature=require_signature,
            limits=limits,
            signing_key_id=signing_key_id,
            result=result,
            issues=issues,
        ).run()
    except Exception as exc:  # fail closed: the package never passes on a validator bug
        logger.exception("package validation failed unexpectedly for %s", path)
        issues.append(
            Issue(
                "INTERNAL",
                f"The validator failed unexpectedly ({type(exc).__name__}); the package was rejected. "
                "Please retry; contact support if it happens again.",
            )
        )
    result.errors = [i for i in issues if i.severity != WARNING]
    result.warnings = [i for i in issues if i.severity == WARNING]
    if any(i.code == "INTERNAL" for i in result.errors):
        result.icon_png = None
    return result


class _PackageValidator:
    def __init__(
        self,
        *,
        path,
        expected,
        signature,
        signing_keys,
        require_signature,
        limits,
        signing_key_id,
        result: ValidationResult,
        issues: list[Issue],
    ):
        self.path = path
        self.expected = expected
        self.signature = signature
        self.signing_keys = list(signing_keys)
        self.require_signature = require_signature
        self.limits = limits
        self.signing_key_id = signing_key_id
        self.result = result
        self.issues = issues

    def add(self, code: str, message: str, path: str | None = None, severity: str = ERROR) -> None:
        self.issues.append(Issue(code, message, path, severity))

    # -- steps ------------------------------------------------------------------------------------------

    def run(self) -> None:
        try:
            size = os.stat(self.path).st_size
        except OSError as exc:
            self.add("PACKAGE_UNREADABLE", f"The package file cannot be read ({exc.strerror}).")
            return
        self.result.size = size
        if size > self.limits.max_package_size:
            self.add(
                "PACKAGE_TOO_LARGE",
                f"The package is {size} bytes; the maximum is {self.limits.max_package_size} bytes.",
            )
            return
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed by the with block below
        except OSError as exc:
            self.add("PACKAGE_UNREADABLE", f"The package file cannot be read ({exc.strerror}).")
            return
        with fh:
            size = os.fstat(fh.fileno()).st_size
            self.result.size = size
            if size > self.limits.max_package_size:
                self.add(
                    "PACKAGE_TOO_LARGE",
                    f"The package is {size} bytes; the maximum is {self.limits.max_package_size} bytes.",
                )
                return
            digest = self._hash(fh, size)
            if digest is None:
                return
            self._check_signature(fh, digest)
            self._check_archive(fh, size)

    def _hash(self, fh: BinaryIO, size: int) -> bytes | None:
        sha = hashlib.sha256()
        read = 0
        while chunk := fh.read(HASH_CHUNK):
            sha.update(chunk)
            read += len(chunk)
            if read > size:
                break  # the file is growing under us
        if read != size:
            self.add("PACKAGE_UNREADABLE", "The package file changed while it was being read.")
            return None
        self.result.sha256 = sha.hexdigest()
        return sha.digest()

    def _check_archive(self, fh: BinaryIO, size: int) -> None:
        try:
            structure = zipcheck.read_structure(fh, size, self.limits)
        except zipcheck.FatalZipError as exc:
            self.issues.append(exc.issue)
            return
        self.issues.extend(structure.issues)
        entries = structure.entries
        by_name = {}
        for entry in entries:
            by_name.setdefault(entry.name, entry)

        facts = self._check_manifest(fh, by_name.get(MANIFEST_NAME))
        zipcheck.scan_entries(fh, entries, self.limits, self.issues)
        if facts is not None and facts.icon is not None:
            self._check_icon(fh, facts.icon, by_name.get(facts.icon))
        self._collect_languages(entries)

    def _check_manifest(self, fh: BinaryIO, entry: zipcheck.Entry | None):
        if entry is None or entry.is_dir:
            self.add("MANIFEST_MISSING", "The package has no manifest.json at its root.", MANIFEST_NAME)
            return None
        if not entry.readable:
            return None  # the reason is already reported (encrypted, mismatching headers...)
        try:
            raw = zipcheck.read_entry(fh, entry, self.limits, self.limits.max_manifest_size)
        except zipcheck.EntryLimitExceeded as exc:
            if exc.code == "TOO_LARGE":
                self.add(
                    "MANIFEST_TOO_LARGE",
                    f"manifest.json is larger than {self.limits.max_manifest_size} bytes.",
                    MANIFEST_NAME,
                )
            return None  # other failures (CRC, bombs) are reported by the content scan
        try:
            text = raw.decode("utf-8")
            manifest = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
        except UnicodeDecodeError:
            self.add(
                "MANIFEST_INVALID_JSON",
                "manifest.json is not UTF-8 text (a BOM is not allowed either).",
                MANIFEST_NAME,
            )
            return None
        except (ValueError, RecursionError) as exc:
            detail = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
            self.add("MANIFEST_INVALID_JSON", f"manifest.json is not valid JSON: {detail}", MANIFEST_NAME)
            return None
        if not isinstance(manifest, dict):
            self.add("MANIFEST_INVALID_JSON", "manifest.json must contain a JSON object.", MANIFEST_NAME)
            return None
        problem = _json_shape_problem(manifest)
        if problem:
            self.add("MANIFEST_INVALID_JSON", f"manifest.json {problem}.", MANIFEST_NAME)
            return None
        self.result.manifest = manifest
        facts = check_manifest(
            manifest,
            package_id=self.expected.package_id,
            version_code=self.expected.version_code,
            version_name=self.expected.version_name,
        )
        self.issues.extend(facts.issues)
        self.result.permissions = facts.permissions
        self.result.sensitive_permissions = facts.sensitive_permissions
        self.result.dependencies = facts.dependencies
        self.result.dependency_rules = facts.dependency_rules
        self.result.min_mosis_version = facts.min_mosis_version
        self.result.max_mosis_version = facts.max_mosis_version
        self.result.requires_restart = facts.requires_restart
        return facts

    def _check_icon(self, fh: BinaryIO, icon_path: str, entry: zipcheck.Entry | None) -> None:
        if entry is None or entry.is_dir:
            self.add(
                "ICON_MISSING",
                f"The icon {icon_path!r} named in manifest.json is not in the package.",
                icon_path,
            )
            return
        if not entry.readable:
            return  # already reported
        try:
            data = zipcheck.read_entry(fh, entry, self.limits, self.limits.max_icon_bytes)
        except zipcheck.EntryLimitExceeded as exc:
            if exc.code == "TOO_LARGE":
                self.add(
                    "ICON_TOO_LARGE",
                    f"The icon is larger than {self.limits.max_icon_bytes} bytes.",
                    icon_path,
                )
            return
        if self._icon_is_valid(data, icon_path):
            self.result.icon_png = data

    def _icon_is_valid(self, data: bytes, icon_path: str) -> bool:
        lo, hi = self.limits.icon_min_px, self.limits.icon_max_px
        if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
            self.add("ICON_NOT_PNG", "The icon is not a PNG file.", icon_path)
            return False
        # Read the size from IHDR before Pillow decodes anything: a decompression bomb never gets decoded.
        width, height = struct.unpack(">II", data[16:24])
        if not (lo <= width <= hi and lo <= height <= hi):
            self.add(
                "ICON_DIMENSIONS",
                f"The icon is {width}x{height} pixels; each side must be between {lo} and {hi}.",
                icon_path,
            )
            return False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                    if image.size != (width, height):
                        raise ValueError("size mismatch")
                    image.verify()  # chunk CRCs and structure
                with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                    image.load()  # full decode: truncated or corrupt pixel data fails here
        except Exception as exc:  # Pillow raises many types for hostile input; all mean "not a PNG"
            self.add("ICON_NOT_PNG", f"The icon is not a valid PNG image ({type(exc).__name__}).", icon_path)
            return False
        if width != height:
            self.add(
                "ICON_NOT_SQUARE",
                f"The icon is {width}x{height}; square icons look best.",
                icon_path,
                WARNING,
            )
        return True

    def _collect_languages(self, entries: list[zipcheck.Entry]) -> None:
        tags: set[str] = set()
        invalid: set[str] = set()
        for entry in entries:
            if not entry.name.startswith(NLS_PREFIX):
                continue
            rest = entry.name[len(NLS_PREFIX) :]
            if "/" not in rest:
                continue  # a file directly under nls/ is not a language folder
            tag = rest.split("/", 1)[0]
            if not tag:
                continue
            (tags if is_language_tag(tag) else invalid).add(tag)
        for tag in sorted(invalid):
            self.add(
                "LANGUAGE_TAG_INVALID",
                f"nls/{tag}/ is not a BCP 47 language tag (e.g. 'en', 'pt-BR'); it is ignored.",
                f"nls/{tag}/",
                WARNING,
            )
        self.result.languages = sorted(tags)

    def _check_signature(self, fh: BinaryIO, digest: bytes) -> None:
        if self.signature is None or self.signature == "":
            if self.require_signature:
                self.add(
                    "SIGNATURE_MISSING",
                    "This store requires signed packages: upload a signature made "
                    "with one of your registered signing keys.",
                )
            return
        try:
            decode_signature(self.signature)
        except ValueError as exc:
            self.add("SIGNATURE_INVALID", str(exc))
            return
        keys = self.signing_keys
        if self.signing_key_id is not None:
            keys = [k for k in keys if k.id == self.signing_key_id]
            if not keys:
                self.add(
                    "SIGNATURE_KEY_UNKNOWN",
                    f"Signing key {self.signing_key_id!r} is not one of your registered keys.",
                )
                return
            key = keys[0]
            if not key.active:
                self.add(
                    "SIGNATURE_KEY_REVOKED",
                    f"Signing key {key.fingerprint} has been revoked; sign with an active key.",
                )
                return
        if not keys:
            self.add(
                "SIGNATURE_KEY_UNKNOWN",
                "You have no registered signing key; add one before uploading signed packages.",
            )
            return
        for key in sorted(keys, key=lambda k: not k.active):  # active keys first
            if self._verifies(fh, digest, key):
                if not key.active:
                    self.add(
                        "SIGNATURE_KEY_REVOKED",
                        f"The package is signed with key {key.fingerprint}, "
                        "which has been revoked; sign with an active key.",
                    )
                    return
                self.result.signing_key_id = key.id
                self.result.signing_key_fingerprint = key.fingerprint
                return
        self.add(
            "SIGNATURE_INVALID",
            "The signature does not match the package bytes for any of your active "
            "signing keys (was the package changed after signing?).",
        )

    def _verifies(self, fh: BinaryIO, digest: bytes, key: PublicSigningKey) -> bool:
        try:
            load_public_key(key.public_key_pem)
        except InvalidPublicKey:
            logger.warning("signing key %s has an unusable public key", key.id)
            return False
        return verify_file_signature(fh, self.signature, key.public_key_pem, sha256_digest=digest)


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


MAX_JSON_DEPTH = 16


def _json_shape_problem(value) -> str | None:
    """Refuse JSON the rest of the store cannot handle safely: deep nesting (schema checks such as
    uniqueItems recurse), unpaired surrogates (not encodable as UTF-8) and non-finite numbers (1e400)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"is nested more than {MAX_JSON_DEPTH} levels deep"
        if isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, depth + 1))
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "contains an unpaired UTF-16 surrogate escape"
        elif isinstance(item, float) and not math.isfinite(item):
            return "contains a number too large to represent"
    return None
