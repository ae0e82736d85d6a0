"""The validation report as a developer reads it: errors first, each with what to do about it.

The validator's report (``AppVersion.validation_report``) says what is wrong; ``FIX_BY_CODE`` says how to
fix it, one entry for every code of ``versions.package.ISSUE_CODES`` (a test keeps them in step). The
wording follows docs/package-format.md, which the hints link to for details.
"""

from __future__ import annotations

from dataclasses import dataclass

REZIP = "Build the archive again with a standard zip tool (e.g. `zip -r -X`) and upload it as a new version."

FIX_BY_CODE: dict[str, str] = {
    # the file
    "PACKAGE_TOO_LARGE": "Make the package smaller than the store's maximum package size: leave out build "
    "artefacts, source maps and duplicate assets.",
    "PACKAGE_UNREADABLE": "Upload the package again; if this repeats, check the file opens on your machine.",
    # the ZIP structure
    "NOT_A_ZIP": "Upload the .mpk ZIP archive itself, not a folder, a tarball or another file.",
    "ZIP_TRUNCATED": "The upload was cut short or the file is damaged: " + REZIP,
    "ZIP_TRAILING_DATA": "Remove whatever was appended after the archive (signatures belong in the "
    "signature field, not in the file). " + REZIP,
    "ZIP_UNEXPECTED_DATA": "Remove bytes that belong to no entry (self-extracting stubs, padding). " + REZIP,
    "ZIP_MULTI_DISK": "Write one single-file archive, not a split or spanned one.",
    "ZIP64_UNSUPPORTED": "Write a plain ZIP without ZIP64 records (keep entries and the archive under 4 GiB "
    "and disable forced ZIP64 in your tool).",
    "ZIP_CORRUPT_DIRECTORY": REZIP,
    "LOCAL_HEADER_MISMATCH": REZIP,
    "OVERLAPPING_ENTRIES": REZIP,
    "TOO_MANY_ENTRIES": "Ship fewer files: bundle assets or remove unused ones (at most 10 000 entries).",
    "UNSUPPORTED_COMPRESSION": "Compress entries with DEFLATE or store them uncompressed (no bzip2, LZMA, "
    "zstd).",
    "ENCRYPTED_ENTRY": "Do not password-protect the archive or any entry in it.",
    # entry names
    "INVALID_NAME_ENCODING": "Rename the file so its name is valid UTF-8.",
    "INVALID_NAME": "Rename the entry: no empty or '.' path parts and only printable characters.",
    "NAME_TOO_LONG": "Shorten the file's path to at most 255 bytes.",
    "PATH_TOO_DEEP": "Flatten the folder structure to at most 32 levels.",
    "ABSOLUTE_PATH": "Zip the files with paths relative to the package root (no leading '/' or drive "
    "letter).",
    "PATH_TRAVERSAL": "Remove '..' from entry paths: zip from inside the package folder.",
    "BACKSLASH_IN_NAME": "Use '/' as the path separator (zip on Windows with a tool that writes '/').",
    "SYMLINK_ENTRY": "Replace the symbolic link with the file it points to (do not use `zip -y`).",
    "SPECIAL_FILE_ENTRY": "Remove the device, FIFO or socket entry from the archive.",
    "DUPLICATE_ENTRY": "Keep one entry per path: remove the duplicate.",
    "DUPLICATE_ENTRY_CASE": "Rename one of the two entries: paths may not differ only by upper/lower case.",
    # inflating
    "ENTRY_TOO_LARGE": "Keep every file under 250 MiB once unpacked: split or shrink the large one.",
    "ZIP_BOMB_RATIO": "Store the file with a normal compression ratio (at most 100:1); do not pad files "
    "with repeated data.",
    "TOTAL_TOO_LARGE": "Keep the unpacked package under 1 GiB in total.",
    "CRC_MISMATCH": "The file is damaged: " + REZIP,
    "SIZE_MISMATCH": "The file is damaged: " + REZIP,
    "CORRUPT_ENTRY": "The file is damaged: " + REZIP,
    # the manifest
    "MANIFEST_MISSING": "Add manifest.json at the root of the archive (not inside a folder).",
    "MANIFEST_TOO_LARGE": "Keep manifest.json under 64 KiB: move long texts into the app's description.",
    "MANIFEST_INVALID_JSON": "Save manifest.json as UTF-8 JSON holding one object; check it with a JSON "
    "linter.",
    "MANIFEST_SCHEMA": "Correct the field named in the message (see the manifest table in the package "
    "format guide).",
    "MANIFEST_UNKNOWN_FIELD": "Remove the field or check its spelling; the store ignores it.",
    "PACKAGE_ID_MISMATCH": "Set package_id in manifest.json to this app's package id.",
    "VERSION_CODE_MISMATCH": "Set version_code in manifest.json to the code of this version, or create a "
    "version with the manifest's code.",
    "VERSION_NAME_MISMATCH": "Set version_name in manifest.json to the name of this version, or create a "
    "version with the manifest's name.",
    "VERSION_NAME_NOT_SEMVER": "Use a semantic version such as 1.4.0 or 2.0.0-beta.1.",
    "MOSIS_VERSION_RANGE": "Make min_mosis_version lower than or equal to max_mosis_version.",
    "UNKNOWN_PERMISSION": "Remove the permission or use a name from the documented permission list.",
    "SENSITIVE_PERMISSION": "Explain in your long description why the app needs it; reviewers check.",
    "INVALID_DEPENDENCY_RANGE": "Write the range in npm semver syntax, e.g. ^2.1.0, ~1.2 or >=1.0.0 <3.0.0.",
    "DEPENDENCY_ON_SELF": "Remove this package from its own dependencies.",
    "LANGUAGE_TAG_INVALID": "Rename the nls/ folder to a BCP 47 tag such as en, pt-BR or zh-Hant.",
    # the icon
    "ICON_MISSING": "Add the icon file at the path the manifest's icon field names (e.g. icon.png).",
    "ICON_TOO_LARGE": "Compress the icon below 512 KiB (a 512×512 PNG is usually far smaller).",
    "ICON_NOT_PNG": "Save the icon as a real PNG image (renaming a JPEG or SVG is not enough).",
    "ICON_DIMENSIONS": "Resize the icon to between 16 and 1024 pixels on each side (512×512 is ideal).",
    "ICON_NOT_SQUARE": "Make the icon square so it is not letterboxed.",
    # the signature
    "SIGNATURE_MISSING": "Sign the package with one of your signing keys and give the signature when you "
    "complete the upload.",
    "SIGNATURE_INVALID": "Sign the exact file you uploaded, after the last change to it, and paste the "
    "base64 signature without line breaks.",
    "SIGNATURE_KEY_UNKNOWN": "Register the public key you signed with under Signing keys, then upload again.",
    "SIGNATURE_KEY_REVOKED": "Sign with an active signing key and upload a new version.",
    # the store
    "INTERNAL": "Nothing to fix in your package: retry the validation. If it fails again, contact the "
    "store's staff.",
}
DEFAULT_FIX = "See the validation report table in the package format guide."


@dataclass(frozen=True)
class ReportItem:
    severity: str  # "error" | "warning"
    code: str
    message: str
    path: str | None
    fix: str


def report_items(report: dict | None) -> list[ReportItem]:
    """The report's issues, errors first then warnings, each with its fix."""
    report = report or {}
    items: list[ReportItem] = []
    for severity, key in (("error", "errors"), ("warning", "warnings")):
        for issue in report.get(key) or []:
            if not isinstance(issue, dict):
                continue
            code = str(issue.get("code") or "")
            items.append(
                ReportItem(
                    severity=severity,
                    code=code,
                    message=str(issue.get("message") or ""),
                    path=issue.get("path") or None,
                    fix=FIX_BY_CODE.get(code, DEFAULT_FIX),
                )
            )
    return items


def is_retryable(report: dict | None) -> bool:
    """A rejection caused by the store (``INTERNAL``): upload-complete may be sent again."""
    return any((issue or {}).get("code") == "INTERNAL" for issue in (report or {}).get("errors") or [])
