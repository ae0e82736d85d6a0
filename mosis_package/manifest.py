"""The manifest.json schema, the permission list, and the manifest rules.

`check_manifest` takes the decoded JSON object and returns the issues plus the normalised facts the store
records on the version (permissions, dependencies, Mosis version bounds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import semantic_version
from jsonschema import Draft202012Validator

from .limits import ERROR, WARNING, Issue

MANIFEST_NAME = "manifest.json"

PACKAGE_ID_PATTERN = r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+$"
# semver.org's own regular expression (MAJOR.MINOR.PATCH, optional pre-release and build, no leading zeros):
# exactly what semantic_version accepts, so a schema, a form and the validator say the same thing.
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
MOSIS_VERSION_PATTERN = r"^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2}))?$"  # parts <= 999, as versions.constants.mosis_version_number
# A dependency's object form (docs/package-format.md, Dependencies): bounds on what a manifest may require of
# a dependency's configuration, and on what a device may report of its own (store.devices.services.installed).
CONFIG_KEY_PATTERN = r"^[a-z][a-z0-9_.-]{0,63}$"
CONFIG_VALUE_MAX_LENGTH = 200
DEPENDENCY_CONFIG_MAX_KEYS = 16
DEPENDENCY_DESCRIPTION_MAX = 500

# The one permission list. name -> (sensitive, what it grants). Sensitive permissions are allowed but are
# reported as warnings and shown to reviewers, who must see a reason for them in the listing.
PERMISSIONS: dict[str, tuple[bool, str]] = {
    "network": (False, "Open network connections."),
    "storage": (False, "Persist data in the app's private storage."),
    "notifications": (False, "Show notifications."),
    "vibration": (False, "Use the vibration motor / haptics."),
    "wake_lock": (False, "Keep the screen or device awake while the app runs."),
    "camera": (True, "Capture photos and video."),
    "microphone": (True, "Record audio."),
    "location": (True, "Read the device's location."),
    "contacts": (True, "Read and change the user's contacts."),
    "calendar": (True, "Read and change the user's calendar."),
    "bluetooth": (True, "Scan for and connect to Bluetooth devices (can reveal location)."),
    "usb": (True, "Talk to USB devices."),
    "background": (True, "Keep running while not in the foreground."),
    "clipboard": (True, "Read the clipboard (writing needs no permission)."),
    "filesystem": (True, "Read and write the user's files outside the app's storage."),
    "system_settings": (True, "Change system settings."),
}
SENSITIVE_PERMISSIONS = frozenset(name for name, (sensitive, _) in PERMISSIONS.items() if sensitive)

MANIFEST_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://mosis.store/schemas/manifest.json",
    "title": "Mosis package manifest",
    "type": "object",
    "required": ["package_id", "name", "version_name", "version_code", "min_mosis_version", "icon"],
    # Each "description" is what `mosis init` prints to explain the field: one place for both.
    "properties": {
        "package_id": {
            "type": "string",
            "maxLength": 255,
            "pattern": PACKAGE_ID_PATTERN,
            "description": "Your app's id, reverse-domain and lowercase (com.example.notes). It never changes.",
        },
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "description": "The name people see in the store.",
        },
        "description": {
            "type": "string",
            "maxLength": 4000,
            "description": "One or two sentences about the app.",
        },
        "version_name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "The version people see, semver (1.4.0). Never reuse one.",
        },
        "version_code": {
            "type": "integer",
            "minimum": 1,
            "maximum": 2**31 - 1,
            "description": "A whole number that must grow with every upload (1, 2, 3...).",
        },
        "min_mosis_version": {
            "type": "string",
            "pattern": MOSIS_VERSION_PATTERN,
            "description": "The oldest Mosis the app runs on (MAJOR.MINOR, e.g. 1.2).",
        },
        "max_mosis_version": {
            "type": "string",
            "pattern": MOSIS_VERSION_PATTERN,
            "description": "The newest Mosis the app is known to run on (MAJOR.MINOR).",
        },
        "permissions": {
            "type": "array",
            "maxItems": 64,
            "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "maxLength": 64},
            "description": "What the app may use (network, storage, camera...); ask only for what it needs.",
        },
        "dependencies": {
            "type": "object",
            "maxProperties": 64,
            "propertyNames": {"maxLength": 255, "pattern": PACKAGE_ID_PATTERN},
            "additionalProperties": {
                "oneOf": [
                    {"type": "string", "minLength": 1, "maxLength": 256},
                    {
                        "type": "object",
                        "required": ["version"],
                        "additionalProperties": False,
                        "properties": {
                            "version": {"type": "string", "minLength": 1, "maxLength": 256},
                            "optional": {"type": "boolean"},
                            "default": {"type": "boolean"},
                            "description": {"type": "string", "maxLength": DEPENDENCY_DESCRIPTION_MAX},
                            "config": {
                                "type": "object",
                                "maxProperties": DEPENDENCY_CONFIG_MAX_KEYS,
                                "propertyNames": {"pattern": CONFIG_KEY_PATTERN},
                                "additionalProperties": {
                                    "oneOf": [
                                        {"type": "string", "maxLength": CONFIG_VALUE_MAX_LENGTH},
                                        {"type": "boolean"},
                                        {"type": "integer"},
                                    ]
                                },
                            },
                        },
                    },
                ]
            },
            "description": (
                "Other packages the app needs: package id -> npm semver range (^2.1.0), or "
                '{"version": "^2", "optional": true, ...} (docs/package-format.md, Dependencies).'
            ),
        },
        "requires_restart": {
            "type": "boolean",
            "description": "true if the host must restart after installing or updating the app.",
        },
        "icon": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "description": "Path of a square PNG icon inside the package (16-1024 px; 512x512 is best).",
        },
    },
    # Unknown fields are reported as warnings (MANIFEST_UNKNOWN_FIELD), not errors, so that packages built
    # for a newer store keep validating here.
    "additionalProperties": False,
}

_SCHEMA_VALIDATOR = Draft202012Validator(MANIFEST_SCHEMA)
_MAX_SCHEMA_ISSUES = 50


def parse_mosis_version(value: str) -> tuple[int, int, int]:
    """'1.2' -> (1, 2, 0); '1.2.3' -> (1, 2, 3). Caller has checked MOSIS_VERSION_PATTERN."""
    parts = [int(p) for p in value.split(".")]
    while len(parts) < 3:
        parts.append(0)
    return parts[0], parts[1], parts[2]


@dataclass
class ManifestFacts:
    issues: list[Issue] = field(default_factory=list)
    permissions: list[str] = field(default_factory=list)
    sensitive_permissions: list[str] = field(default_factory=list)
    dependencies: dict[str, str] = field(default_factory=dict)
    # Per dependency written in the object form: {"optional", "default", "description", "config"}.
    dependency_rules: dict[str, dict] = field(default_factory=dict)
    min_mosis_version: str | None = None
    max_mosis_version: str | None = None
    requires_restart: bool = False
    icon: str | None = None


def _pointer(path) -> str:
    return "/" + "/".join(str(p) for p in path) if path else "(root)"


def check_manifest(manifest: dict, *, package_id: str, version_code: int, version_name: str) -> ManifestFacts:
    """Apply the schema and the store rules to a decoded manifest object."""
    facts = ManifestFacts()
    issues = facts.issues
    schema_errors = sorted(_SCHEMA_VALIDATOR.iter_errors(manifest), key=lambda e: list(map(str, e.path)))
    bad_fields: set[str] = set()
    for err in schema_errors[:_MAX_SCHEMA_ISSUES]:
        if err.validator == "additionalProperties" and not err.path:
            unknown = sorted(set(manifest) - set(MANIFEST_SCHEMA["properties"]))
            for key in unknown:
                issues.append(
                    Issue(
                        "MANIFEST_UNKNOWN_FIELD", f"Unknown field {key!r} is ignored.", MANIFEST_NAME, WARNING
                    )
                )
            continue
        if err.path:
            bad_fields.add(str(err.path[0]))
        elif err.validator == "required":
            bad_fields.update(k for k in MANIFEST_SCHEMA["required"] if k not in manifest)
        issues.append(Issue("MANIFEST_SCHEMA", f"{_pointer(err.path)}: {err.message}", MANIFEST_NAME))
    if len(schema_errors) > _MAX_SCHEMA_ISSUES:
        issues.append(
            Issue("MANIFEST_SCHEMA", f"... and {len(schema_errors) - _MAX_SCHEMA_ISSUES} more", MANIFEST_NAME)
        )

    if isinstance(manifest.get("version_code"), float):
        # JSON Schema counts 14.0 as an integer; the store records an int, so say so.
        bad_fields.add("version_code")
        issues.append(
            Issue(
                "MANIFEST_SCHEMA",
                "/version_code: must be written as an integer (14, not 14.0)",
                MANIFEST_NAME,
            )
        )

    def ok(key: str) -> bool:
        return key in manifest and key not in bad_fields

    if ok("package_id") and manifest["package_id"] != package_id:
        issues.append(
            Issue(
                "PACKAGE_ID_MISMATCH",
                f"package_id is {manifest['package_id']!r} but this app's package id is {package_id!r}.",
                MANIFEST_NAME,
            )
        )
    if ok("version_code") and manifest["version_code"] != version_code:
        issues.append(
            Issue(
                "VERSION_CODE_MISMATCH",
                f"version_code is {manifest['version_code']} but the version being uploaded is {version_code}.",
                MANIFEST_NAME,
            )
        )
    if ok("version_name"):
        try:
            semantic_version.Version(manifest["version_name"])
        except ValueError:
            issues.append(
                Issue(
                    "VERSION_NAME_NOT_SEMVER",
                    f"version_name {manifest['version_name']!r} is not a semantic version such as '1.4.0'.",
                    MANIFEST_NAME,
                )
            )
        if manifest["version_name"] != version_name:
            issues.append(
                Issue(
                    "VERSION_NAME_MISMATCH",
                    f"version_name is {manifest['version_name']!r} but the version being uploaded is "
                    f"{version_name!r}.",
                    MANIFEST_NAME,
                )
            )
    if ok("min_mosis_version"):
        facts.min_mosis_version = manifest["min_mosis_version"]
    if ok("max_mosis_version"):
        facts.max_mosis_version = manifest["max_mosis_version"]
    if (
        facts.min_mosis_version
        and facts.max_mosis_version
        and parse_mosis_version(facts.min_mosis_version) > parse_mosis_version(facts.max_mosis_version)
    ):
        issues.append(
            Issue(
                "MOSIS_VERSION_RANGE",
                f"min_mosis_version {facts.min_mosis_version} is greater than max_mosis_version "
                f"{facts.max_mosis_version}.",
                MANIFEST_NAME,
            )
        )
    if ok("permissions"):
        for perm in manifest["permissions"]:
            if perm not in PERMISSIONS:
                issues.append(
                    Issue(
                        "UNKNOWN_PERMISSION",
                        f"Unknown permission {perm!r}; see the permission list in docs/package-format.md.",
                        MANIFEST_NAME,
                    )
                )
                continue
            facts.permissions.append(perm)
            if perm in SENSITIVE_PERMISSIONS:
                facts.sensitive_permissions.append(perm)
                issues.append(
                    Issue(
                        "SENSITIVE_PERMISSION",
                        f"Sensitive permission {perm!r}: reviewers will ask why the app needs it.",
                        MANIFEST_NAME,
                        WARNING,
                    )
                )
        facts.permissions.sort()
        facts.sensitive_permissions.sort()
    if ok("dependencies"):
        for dep_id, value in sorted(manifest["dependencies"].items()):
            spec = value["version"] if isinstance(value, dict) else value
            if dep_id == package_id or dep_id == manifest.get("package_id"):
                issues.append(
                    Issue("DEPENDENCY_ON_SELF", "A package cannot depend on itself.", MANIFEST_NAME)
                )
                continue
            try:
                semantic_version.NpmSpec(spec)
            except ValueError:
                issues.append(
                    Issue(
                        "INVALID_DEPENDENCY_RANGE",
                        f"Dependency {dep_id!r}: {spec!r} is not a valid npm semver range (e.g. '^2.1.0').",
                        MANIFEST_NAME,
                    )
                )
                continue
            facts.dependencies[dep_id] = spec
            if isinstance(value, dict):
                facts.dependency_rules[dep_id] = dependency_rule(value)
    if ok("requires_restart"):
        facts.requires_restart = manifest["requires_restart"]
    if ok("icon"):
        facts.icon = manifest["icon"]
    return facts


def dependency_rule(value: dict) -> dict:
    """The stored rule of a dependency written in the object form (already schema-checked).

    ``optional`` defaults to false; ``default`` (install it unless the device declines) to true for a required
    dependency, which is always installed, and to false for an optional one, which is then installed only
    when asked for.
    """
    optional = bool(value.get("optional", False))
    return {
        "optional": optional,
        "default": bool(value.get("default", not optional)) if optional else True,
        "description": str(value.get("description", "")),
        "config": dict(value.get("config") or {}),
    }


LANGUAGE_TAG_RE = re.compile(
    r"^[A-Za-z]{2,3}"  # language
    r"(-[A-Za-z]{4})?"  # script
    r"(-(?:[A-Za-z]{2}|[0-9]{3}))?"  # region
    r"(-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*$"  # variants
)


def is_language_tag(tag: str) -> bool:
    return bool(LANGUAGE_TAG_RE.match(tag))


__all__ = [
    "CONFIG_KEY_PATTERN",
    "CONFIG_VALUE_MAX_LENGTH",
    "DEPENDENCY_CONFIG_MAX_KEYS",
    "ERROR",
    "MANIFEST_NAME",
    "MANIFEST_SCHEMA",
    "PERMISSIONS",
    "SENSITIVE_PERMISSIONS",
    "ManifestFacts",
    "check_manifest",
    "dependency_rule",
    "is_language_tag",
    "parse_mosis_version",
]
