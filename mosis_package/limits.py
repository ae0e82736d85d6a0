"""Bounds a package must respect, and the vocabulary of the validation report.

`Issue` lives here (rather than in `validator.py`) because every step of the validator — the ZIP checker,
the manifest rules, the signature check — produces issues, and this module is the one they all import
without creating cycles. Every issue code the validator can emit is listed in `ISSUE_CODES`; the
developer documentation (`docs/package-format.md`) mirrors that table.
"""

from __future__ import annotations

from dataclasses import dataclass

KiB = 1024
MiB = 1024**2
GiB = 1024**3


@dataclass(frozen=True)
class Limits:
    """Every bound enforced by `validate_package` (defaults from SPEC §7)."""

    max_package_size: int = 200 * MiB  # bytes of the .mpk file itself
    max_entries: int = 10_000  # central-directory records (files and folders)
    max_total_uncompressed: int = GiB  # sum of inflated bytes, measured while inflating
    max_entry_size: int = 250 * MiB  # inflated bytes of one entry, measured while inflating
    max_ratio: int = 100  # inflated / compressed bytes of one entry ...
    ratio_min_size: int = MiB  # ... checked once the entry has inflated past this many bytes
    max_manifest_size: int = 64 * KiB  # inflated bytes of manifest.json
    max_name_bytes: int = 255  # UTF-8 bytes of one entry name
    max_depth: int = 32  # path components of one entry name
    max_icon_bytes: int = 512 * KiB  # inflated bytes of the icon file
    icon_min_px: int = 16  # each side of the icon, inclusive
    icon_max_px: int = 1024  # each side of the icon, inclusive


ERROR = "error"
WARNING = "warning"


@dataclass
class Issue:
    """One line of the validation report."""

    code: str
    message: str
    path: str | None = None
    severity: str = ERROR

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "path": self.path, "severity": self.severity}


# code -> meaning. Stable: clients and the portal key on these strings.
ISSUE_CODES: dict[str, str] = {
    # file level
    "PACKAGE_TOO_LARGE": "The package file is bigger than the maximum package size.",
    "PACKAGE_UNREADABLE": "The package file could not be read.",
    # ZIP structure
    "NOT_A_ZIP": "The file is not a ZIP archive (no valid end-of-central-directory record).",
    "ZIP_TRUNCATED": "The archive is cut short: a record points past the end of the file.",
    "ZIP_TRAILING_DATA": "Bytes follow the end-of-central-directory record.",
    "ZIP_UNEXPECTED_DATA": "Bytes before the first entry or between entries that belong to no entry.",
    "ZIP_MULTI_DISK": "Split / multi-disk archives are not supported.",
    "ZIP64_UNSUPPORTED": "ZIP64 records are not accepted; no valid package needs them.",
    "ZIP_CORRUPT_DIRECTORY": "The central directory is malformed or disagrees with the end record.",
    "LOCAL_HEADER_MISMATCH": "An entry's local header disagrees with its central-directory record.",
    "OVERLAPPING_ENTRIES": "Two entries share bytes of the archive.",
    "TOO_MANY_ENTRIES": "The archive holds more entries than allowed.",
    "UNSUPPORTED_COMPRESSION": "An entry uses a compression method other than STORED (0) or DEFLATED (8).",
    "ENCRYPTED_ENTRY": "An entry is encrypted.",
    # entry names
    "INVALID_NAME_ENCODING": "An entry name is not valid UTF-8.",
    "INVALID_NAME": "An entry name is empty, has empty/'.' components or unprintable characters.",
    "NAME_TOO_LONG": "An entry name is longer than the allowed number of bytes.",
    "PATH_TOO_DEEP": "An entry name has more path components than allowed.",
    "ABSOLUTE_PATH": "An entry name is absolute (starts with '/' or a drive letter).",
    "PATH_TRAVERSAL": "An entry name has a '..' component.",
    "BACKSLASH_IN_NAME": "An entry name contains a backslash.",
    "SYMLINK_ENTRY": "An entry is a symbolic link.",
    "SPECIAL_FILE_ENTRY": "An entry is a device, FIFO or socket.",
    "DUPLICATE_ENTRY": "Two entries have the same name.",
    "DUPLICATE_ENTRY_CASE": "Two entries have names that differ only by case.",
    # content
    "ENTRY_TOO_LARGE": "An entry inflates to more than the per-entry maximum.",
    "ZIP_BOMB_RATIO": "An entry's compression ratio is above the maximum (zip bomb).",
    "TOTAL_TOO_LARGE": "The entries inflate to more than the total maximum (zip bomb).",
    "CRC_MISMATCH": "An entry's data does not match its CRC-32.",
    "SIZE_MISMATCH": "An entry inflates to a size different from the one its header declares.",
    "CORRUPT_ENTRY": "An entry's compressed data cannot be inflated.",
    # manifest
    "MANIFEST_MISSING": "There is no manifest.json at the root of the archive.",
    "MANIFEST_TOO_LARGE": "manifest.json is bigger than the maximum manifest size.",
    "MANIFEST_INVALID_JSON": "manifest.json is not UTF-8 JSON, or not a JSON object.",
    "MANIFEST_SCHEMA": "manifest.json does not match the schema.",
    "MANIFEST_UNKNOWN_FIELD": "(warning) manifest.json has a field the store does not know; it is ignored.",
    "PACKAGE_ID_MISMATCH": "package_id differs from the app's package id.",
    "VERSION_CODE_MISMATCH": "version_code differs from the version being uploaded.",
    "VERSION_NAME_MISMATCH": "version_name differs from the version being uploaded.",
    "VERSION_NAME_NOT_SEMVER": "version_name is not a semantic version (e.g. 1.4.0).",
    "MOSIS_VERSION_RANGE": "min_mosis_version is greater than max_mosis_version.",
    "UNKNOWN_PERMISSION": "A permission is not in the documented list.",
    "SENSITIVE_PERMISSION": "(warning) A sensitive permission is requested; reviewers will check why.",
    "INVALID_DEPENDENCY_RANGE": "A dependency range is not a valid npm semver range.",
    "DEPENDENCY_ON_SELF": "The package lists itself as a dependency.",
    "LANGUAGE_TAG_INVALID": "(warning) An nls/<tag>/ folder name is not a BCP 47 language tag; it is ignored.",
    # icon
    "ICON_MISSING": "The icon named in the manifest is not in the archive.",
    "ICON_TOO_LARGE": "The icon file is bigger than the maximum icon size in bytes.",
    "ICON_NOT_PNG": "The icon is not a valid PNG image.",
    "ICON_DIMENSIONS": "The icon's width or height is outside the allowed pixel bounds.",
    "ICON_NOT_SQUARE": "(warning) The icon is not square; it will be letterboxed.",
    # signature
    "SIGNATURE_MISSING": "No signature was supplied and this store requires one.",
    "SIGNATURE_INVALID": "The signature is malformed or does not verify against the package bytes.",
    "SIGNATURE_KEY_UNKNOWN": "No registered signing key matches (or none is registered).",
    "SIGNATURE_KEY_REVOKED": "The signature was made with a signing key that is no longer active.",
    # fail closed
    "INTERNAL": "The validator failed unexpectedly; the package is rejected. Retrying may help.",
}


# code -> what the developer does about it. Shown by `mosis pack`/`mosis publish` after each issue (and in
# the last column of the report table of docs/package-format.md); every code of ISSUE_CODES has one.
ISSUE_FIXES: dict[str, str] = {
    "PACKAGE_TOO_LARGE": "Make the package smaller: leave out build output, caches and media the app downloads.",
    "PACKAGE_UNREADABLE": "Upload the file again; if it keeps happening, the store's storage is failing.",
    "NOT_A_ZIP": "Build the package with `mosis pack` (or `zip -r -X`), not another archive format.",
    "ZIP_TRUNCATED": "The file was cut short: build it again and upload the whole file.",
    "ZIP_TRAILING_DATA": "Build the package with `mosis pack`; do not append anything to the archive.",
    "ZIP_UNEXPECTED_DATA": "Build the package with `mosis pack`; self-extracting stubs are not allowed.",
    "ZIP_MULTI_DISK": "Build one single-file archive (no split archives).",
    "ZIP64_UNSUPPORTED": "Build the package with `mosis pack` or `zip -r -X` without forcing ZIP64.",
    "ZIP_CORRUPT_DIRECTORY": "The archive is damaged: build it again with `mosis pack`.",
    "LOCAL_HEADER_MISMATCH": "The archive is damaged or crafted: build it again with `mosis pack`.",
    "OVERLAPPING_ENTRIES": "The archive is crafted: build it again with `mosis pack`.",
    "TOO_MANY_ENTRIES": "Ship fewer files: bundle your sources or leave out files the app does not use.",
    "UNSUPPORTED_COMPRESSION": "Use plain deflate (`mosis pack`, `zip -r -X`), not bzip2, LZMA or zstd.",
    "ENCRYPTED_ENTRY": "Do not encrypt the archive (no `zip -e`).",
    "INVALID_NAME_ENCODING": "Rename the file so its name is valid UTF-8.",
    "INVALID_NAME": "Rename the file: no empty or '.' path parts and no control characters.",
    "NAME_TOO_LONG": "Use a shorter path (at most 255 bytes).",
    "PATH_TOO_DEEP": "Use fewer nested folders (at most 32 levels).",
    "ABSOLUTE_PATH": "Add files with relative paths (build with `mosis pack`).",
    "PATH_TRAVERSAL": "Add files with relative paths inside the package; no '..'.",
    "BACKSLASH_IN_NAME": "Use '/' between folders (build with `mosis pack`, not a Windows zip tool).",
    "SYMLINK_ENTRY": "Replace the symbolic link with a copy of the file (`zip -y` stores links: leave it out).",
    "SPECIAL_FILE_ENTRY": "Leave devices, FIFOs and sockets out of the package.",
    "DUPLICATE_ENTRY": "Add each file once.",
    "DUPLICATE_ENTRY_CASE": "Rename one of the files: names that differ only by case collide on macOS and Windows.",
    "ENTRY_TOO_LARGE": "Split or shrink the file (each file at most 250 MiB once inflated).",
    "ZIP_BOMB_RATIO": "Store this file uncompressed, or ship it in a form that compresses less than 100:1.",
    "TOTAL_TOO_LARGE": "Ship less data (at most 1 GiB once inflated).",
    "CRC_MISMATCH": "The archive is damaged: build it again and upload the whole file.",
    "SIZE_MISMATCH": "The archive is damaged: build it again and upload the whole file.",
    "CORRUPT_ENTRY": "The archive is damaged: build it again and upload the whole file.",
    "MANIFEST_MISSING": "Put manifest.json at the root of the package (not inside a folder); `mosis init` makes one.",
    "MANIFEST_TOO_LARGE": "Keep manifest.json under 64 KiB: long texts belong in the store listing.",
    "MANIFEST_INVALID_JSON": "Fix the JSON syntax of manifest.json (UTF-8 without BOM, one object, no duplicate keys).",
    "MANIFEST_SCHEMA": "Fix the field named in the message (see the manifest table in docs/package-format.md).",
    "MANIFEST_UNKNOWN_FIELD": "Remove the field or check its spelling; the store ignores it.",
    "PACKAGE_ID_MISMATCH": "Set package_id in manifest.json to the package id of the app you publish.",
    "VERSION_CODE_MISMATCH": "Set version_code in manifest.json to the version you created.",
    "VERSION_NAME_MISMATCH": "Set version_name in manifest.json to the version you created.",
    "VERSION_NAME_NOT_SEMVER": "Use a semantic version such as 1.4.0 or 2.0.0-beta.1.",
    "MOSIS_VERSION_RANGE": "Make min_mosis_version lower than or equal to max_mosis_version.",
    "UNKNOWN_PERMISSION": "Remove the permission or use a name from the permission list.",
    "SENSITIVE_PERMISSION": "Say in your store listing why the app needs this permission.",
    "INVALID_DEPENDENCY_RANGE": "Write the range in npm syntax, e.g. ^2.1.0, ~1.2 or >=1.0.0 <3.0.0.",
    "DEPENDENCY_ON_SELF": "Remove your own package id from dependencies.",
    "LANGUAGE_TAG_INVALID": "Rename the nls/ folder to a language tag such as en, fr or pt-BR.",
    "ICON_MISSING": 'Add the icon file at the path manifest.json names in "icon".',
    "ICON_TOO_LARGE": "Save the icon smaller (at most 512 KiB; 512x512 PNG is plenty).",
    "ICON_NOT_PNG": "Save the icon as a real PNG file (renaming a JPEG or SVG is not enough).",
    "ICON_DIMENSIONS": "Resize the icon to between 16 and 1024 pixels per side (512x512 is best).",
    "ICON_NOT_SQUARE": "Make the icon square, e.g. 512x512.",
    "SIGNATURE_MISSING": "Sign the package: `mosis keygen` once, then `mosis publish` signs for you.",
    "SIGNATURE_INVALID": "Sign the exact file you upload, last (`mosis sign FILE`), with a key registered to you.",
    "SIGNATURE_KEY_UNKNOWN": "Register the public key first (`mosis keygen` does it; or `mosis keys add PUBLIC.pem`).",
    "SIGNATURE_KEY_REVOKED": "Sign with an active key: `mosis keygen` makes and registers a new one.",
    "INTERNAL": "Nothing to change in the package: retry (`mosis publish` again, or Retry on the portal page).",
}
