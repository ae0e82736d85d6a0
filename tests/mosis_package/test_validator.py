"""validate_package: one test per kind of bad package (SPEC §7), plus the happy paths and fuzzing."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import struct
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mosis_package import (
    ISSUE_CODES,
    PERMISSIONS,
    Expected,
    Limits,
    PublicSigningKey,
    build_package,
    fingerprint,
    generate_signing_key,
    make_icon_png,
    sign_file,
    validate_package,
    zipcheck,
)

EXPECTED = Expected(package_id="com.example.notes", version_code=14, version_name="1.4.0")


def manifest(**overrides):
    data = {
        "package_id": "com.example.notes",
        "name": "Notes",
        "version_name": "1.4.0",
        "version_code": 14,
        "min_mosis_version": "1.2",
        "max_mosis_version": "2.9",
        "permissions": ["network", "storage"],
        "dependencies": {"com.example.sync": "^2.1.0"},
        "requires_restart": False,
        "icon": "icon.png",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not ...}


def validate(
    path, *, expected=EXPECTED, signature=None, keys=(), require_signature=False, limits=None, key_id=None
):
    return validate_package(
        path,
        expected=expected,
        signature=signature,
        signing_keys=list(keys),
        require_signature=require_signature,
        limits=limits or Limits(),
        signing_key_id=key_id,
    )


def codes(result):
    return {issue.code for issue in result.errors}


def warning_codes(result):
    return {issue.code for issue in result.warnings}


def write_zip(path, entries, *, compression=zipfile.ZIP_DEFLATED):
    """Write raw entries: name -> bytes, or a ZipInfo -> bytes."""
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return path


def good_entries(**manifest_overrides):
    return [("manifest.json", json.dumps(manifest(**manifest_overrides))), ("icon.png", make_icon_png(32))]


@pytest.fixture
def good_package(tmp_path):
    path = tmp_path / "good.mpk"
    build_package(path, manifest=manifest(), files={"main.js": b"console.log('hi')\n" * 50})
    return path


def central_records(data: bytes):
    """name -> (central record offset, local header offset) of a ZIP without comment."""
    _, _, _, _, count, _, cd_offset, _ = struct.unpack_from("<IHHHHIIH", data, len(data) - 22)
    records, pos = {}, cd_offset
    for _ in range(count):
        fields = struct.unpack_from("<IBBHHHHHIIIHHHHHII", data, pos)
        nlen, xlen, clen, local = fields[11], fields[12], fields[13], fields[17]
        records[data[pos + 46 : pos + 46 + nlen].decode()] = (pos, local)
        pos += 46 + nlen + xlen + clen
    return records


# -- happy paths -------------------------------------------------------------------------------------------


def test_valid_package_passes_and_records_facts(good_package):
    result = validate(good_package)
    assert result.ok, result.report()
    assert result.size == os.path.getsize(good_package)
    assert len(result.sha256) == 64
    assert result.permissions == ["network", "storage"]
    assert result.sensitive_permissions == []
    assert result.dependencies == {"com.example.sync": "^2.1.0"}
    assert (result.min_mosis_version, result.max_mosis_version) == ("1.2", "2.9")
    assert result.requires_restart is False
    assert result.icon_png.startswith(b"\x89PNG")
    assert result.manifest["name"] == "Notes"
    json.dumps(result.report())
    assert set(result.report()) == {"ok", "errors", "warnings", "sha256", "size"}


def test_package_written_with_data_descriptors_passes(tmp_path):
    class Unseekable(io.RawIOBase):
        def __init__(self, fh):
            self.fh = fh

        def writable(self):
            return True

        def write(self, b):
            return self.fh.write(b)

    path = tmp_path / "stream.mpk"
    with (
        open(path, "wb") as fh,
        zipfile.ZipFile(Unseekable(fh), "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        for name, data in good_entries():
            archive.writestr(name, data)
        with archive.open("big.bin", "w") as out:
            out.write(os.urandom(100_000))
    assert b"PK\x07\x08" in path.read_bytes()
    result = validate(path)
    assert result.ok, result.report()


def test_languages_come_from_nls_folders(tmp_path):
    path = tmp_path / "nls.mpk"
    build_package(
        path,
        manifest=manifest(),
        languages=["pt-BR", "en", "fr", "not_a_tag"],
        files={"nls/en/extra.json": b"{}", "nls/README": b"x"},
    )
    result = validate(path)
    assert result.ok, result.report()
    assert result.languages == ["en", "fr", "pt-BR"]
    assert "LANGUAGE_TAG_INVALID" in warning_codes(result)


def test_sensitive_permission_is_a_warning_not_an_error(tmp_path):
    path = tmp_path / "cam.mpk"
    build_package(path, manifest=manifest(permissions=["network", "camera", "location"]))
    result = validate(path)
    assert result.ok, result.report()
    assert result.sensitive_permissions == ["camera", "location"]
    assert "SENSITIVE_PERMISSION" in warning_codes(result)


def test_unknown_manifest_field_is_a_warning(tmp_path):
    path = tmp_path / "extra.mpk"
    build_package(path, manifest=manifest(homepage="https://example.com"))
    result = validate(path)
    assert result.ok, result.report()
    assert "MANIFEST_UNKNOWN_FIELD" in warning_codes(result)


# -- file and ZIP structure ---------------------------------------------------------------------------------


def test_oversize_package_is_refused_before_reading(good_package):
    result = validate(good_package, limits=Limits(max_package_size=100))
    assert codes(result) == {"PACKAGE_TOO_LARGE"}
    assert result.sha256 is None


def test_not_a_zip(tmp_path):
    path = tmp_path / "x.mpk"
    path.write_bytes(b"this is not a zip archive at all" * 10)
    assert codes(validate(path)) == {"NOT_A_ZIP"}


def test_empty_file_is_not_a_zip(tmp_path):
    path = tmp_path / "x.mpk"
    path.write_bytes(b"")
    assert codes(validate(path)) == {"NOT_A_ZIP"}


@pytest.mark.parametrize("keep", [0.5, 0.99])
def test_truncated_zip(good_package, keep):
    data = good_package.read_bytes()
    good_package.write_bytes(data[: int(len(data) * keep)])
    assert codes(validate(good_package)) & {"ZIP_TRUNCATED", "NOT_A_ZIP"}
    assert not validate(good_package).ok


def test_trailing_data_after_end_record(good_package):
    with open(good_package, "ab") as fh:
        fh.write(b"hidden payload")
    assert codes(validate(good_package)) == {"ZIP_TRAILING_DATA"}


def test_data_before_first_entry(good_package):
    data = good_package.read_bytes()
    good_package.write_bytes(b"MZ stub" + data)  # offsets now wrong: a classic polyglot shape
    result = validate(good_package)
    assert not result.ok
    assert codes(result) & {"ZIP_UNEXPECTED_DATA", "LOCAL_HEADER_MISMATCH", "ZIP_CORRUPT_DIRECTORY"}


def test_local_header_disagreeing_with_central_directory(tmp_path):
    path = write_zip(
        tmp_path / "x.mpk", [*good_entries(), ("data.txt", b"hello")], compression=zipfile.ZIP_STORED
    )
    data = bytearray(path.read_bytes())
    _, local = central_records(bytes(data))["data.txt"]
    assert data[local + 30 : local + 38] == b"data.txt"
    data[local + 30 : local + 38] = b"evil.txt"  # the local header now names another file
    path.write_bytes(bytes(data))
    result = validate(path)
    assert "LOCAL_HEADER_MISMATCH" in codes(result)
    assert any(i.path == "data.txt" for i in result.errors)


def test_local_header_size_mismatch(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("data.txt", b"hello")])
    data = bytearray(path.read_bytes())
    _, local = central_records(bytes(data))["data.txt"]
    struct.pack_into("<I", data, local + 22, 999)  # local uncompressed size
    path.write_bytes(bytes(data))
    assert "LOCAL_HEADER_MISMATCH" in codes(validate(path))


def test_overlapping_entries(tmp_path):
    path = write_zip(
        tmp_path / "x.mpk",
        [*good_entries(), ("a.txt", b"a" * 10), ("b.txt", b"b" * 10)],
        compression=zipfile.ZIP_STORED,
    )
    data = bytearray(path.read_bytes())
    records = central_records(bytes(data))
    central_b, _ = records["b.txt"]
    _, local_a = records["a.txt"]
    struct.pack_into("<I", data, central_b + 42, local_a)  # b's record points at a's local header
    path.write_bytes(bytes(data))
    result = validate(path)
    assert not result.ok
    assert codes(result) & {"OVERLAPPING_ENTRIES", "LOCAL_HEADER_MISMATCH"}


def test_encrypted_flag(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("secret.txt", b"s3cr3t")])
    data = bytearray(path.read_bytes())
    central, local = central_records(bytes(data))["secret.txt"]
    data[local + 6] |= 0x01
    data[central + 8] |= 0x01
    path.write_bytes(bytes(data))
    assert codes(validate(path)) == {"ENCRYPTED_ENTRY"}


def test_unsupported_compression_method(tmp_path):
    path = tmp_path / "x.mpk"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in good_entries():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr("data.bin", b"x" * 1000, compress_type=zipfile.ZIP_BZIP2)
    result = validate(path)
    assert codes(result) == {"UNSUPPORTED_COMPRESSION"}
    assert result.errors[0].path == "data.bin"


def test_crc_mismatch(tmp_path):
    path = write_zip(
        tmp_path / "x.mpk", [*good_entries(), ("data.txt", b"hello world")], compression=zipfile.ZIP_STORED
    )
    data = bytearray(path.read_bytes())
    _, local = central_records(bytes(data))["data.txt"]
    data[local + 30 + len("data.txt")] ^= 0xFF  # flip the first content byte
    path.write_bytes(bytes(data))
    assert codes(validate(path)) == {"CRC_MISMATCH"}


def test_zip64_is_refused(tmp_path):
    path = tmp_path / "x.mpk"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in good_entries():
            archive.writestr(name, data)
        with archive.open("big.bin", "w", force_zip64=True) as out:
            out.write(b"x" * 10)
    # force_zip64 puts ZIP64 sizes in the local header only
    assert codes(validate(path)) == {"ZIP64_UNSUPPORTED"}


def test_zip64_end_record_is_refused(good_package):
    data = bytearray(good_package.read_bytes())
    struct.pack_into("<HH", data, len(data) - 22 + 8, 0xFFFF, 0xFFFF)  # entry counts deferred to ZIP64
    good_package.write_bytes(bytes(data))
    assert codes(validate(good_package)) == {"ZIP64_UNSUPPORTED"}


# -- entry names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("../evil.js", "PATH_TRAVERSAL"),
        ("lib/../../evil.js", "PATH_TRAVERSAL"),
        ("/etc/passwd", "ABSOLUTE_PATH"),
        ("C:/evil.js", "ABSOLUTE_PATH"),
        ("lib\\evil.js", "BACKSLASH_IN_NAME"),
        ("lib//x.js", "INVALID_NAME"),
        ("lib/./x.js", "INVALID_NAME"),
        ("bell\x07.js", "INVALID_NAME"),
        ("x" * 256, "NAME_TOO_LONG"),
        ("/".join(["d"] * 33), "PATH_TOO_DEEP"),
    ],
)
def test_bad_entry_names(tmp_path, name, code):
    info = zipfile.ZipInfo("placeholder")
    info.filename = name  # bypass any normalisation zipfile might do
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), (info, b"x")])
    result = validate(path)
    assert code in codes(result), result.report()


def test_non_utf8_name(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("caf\u00e9.txt", b"x")])
    data = path.read_bytes().replace("caf\u00e9.txt".encode(), b"caf\xe9x.txt")
    path.write_bytes(data)
    assert "INVALID_NAME_ENCODING" in codes(validate(path))


def test_symlink_entry(tmp_path):
    info = zipfile.ZipInfo("link")
    info.create_system = 3
    info.external_attr = 0o120777 << 16
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), (info, b"/etc/passwd")])
    assert codes(validate(path)) == {"SYMLINK_ENTRY"}


def test_duplicate_names(tmp_path):
    with pytest.warns(UserWarning):
        path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("a.js", b"1"), ("a.js", b"2")])
    assert codes(validate(path)) == {"DUPLICATE_ENTRY"}


@pytest.mark.parametrize("other", ["lib/x.js", "lib/"])
def test_file_and_folder_with_the_same_name(tmp_path, other):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("lib", b"1"), (other, b"")])
    assert codes(validate(path)) == {"DUPLICATE_ENTRY"}


def test_empty_deflated_entry_without_data_is_fine(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("empty.txt", b"")])
    data = bytearray(path.read_bytes())
    central, local = central_records(bytes(data))["empty.txt"]
    if struct.unpack_from("<I", data, central + 20)[0] == 2:  # zipfile wrote the 2-byte empty stream
        data[local + 30 + 9 : local + 30 + 11] = b""  # drop it and fix both headers
        struct.pack_into("<I", data, local + 18, 0)
        central -= 2
        struct.pack_into("<I", data, central + 20, 0)
        eocd = len(data) - 22
        struct.pack_into("<I", data, eocd + 16, struct.unpack_from("<I", data, eocd + 16)[0] - 2)
        path.write_bytes(bytes(data))
    assert validate(path).ok, validate(path).report()


def test_case_insensitive_duplicate_names(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("Lib/A.js", b"1"), ("lib/a.js", b"2")])
    assert codes(validate(path)) == {"DUPLICATE_ENTRY_CASE"}


# -- limits and zip bombs -------------------------------------------------------------------------------


def test_more_than_max_entries_small_limit(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), *((f"f{i}", b"") for i in range(10))])
    assert codes(validate(path, limits=Limits(max_entries=5))) == {"TOO_MANY_ENTRIES"}


def test_exactly_at_and_over_entry_limit(tmp_path):
    at = write_zip(
        tmp_path / "at.mpk",
        [*good_entries(), *((f"f{i}", b"") for i in range(9_998))],
        compression=zipfile.ZIP_STORED,
    )
    over = write_zip(
        tmp_path / "over.mpk",
        [*good_entries(), *((f"f{i}", b"") for i in range(9_999))],
        compression=zipfile.ZIP_STORED,
    )
    assert validate(at).ok
    assert codes(validate(over)) == {"TOO_MANY_ENTRIES"}


def test_zip_bomb_by_ratio(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("zeros.bin", b"\0" * (2 * 1024**2))])
    result = validate(path)
    assert codes(result) == {"ZIP_BOMB_RATIO"}
    assert result.errors[0].path == "zeros.bin"


def test_small_highly_compressible_file_is_fine(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("zeros.bin", b"\0" * 500_000)])
    assert validate(path).ok


def test_zip_bomb_by_total_size(tmp_path):
    chunks = [(f"r{i}.bin", os.urandom(40_000)) for i in range(5)]
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), *chunks])
    result = validate(path, limits=Limits(max_total_uncompressed=100_000))
    assert codes(result) == {"TOTAL_TOO_LARGE"}


def test_entry_too_large(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("big.bin", os.urandom(50_000))])
    assert codes(validate(path, limits=Limits(max_entry_size=10_000))) == {"ENTRY_TOO_LARGE"}


def test_lying_size_header_is_caught_while_inflating(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [*good_entries(), ("zeros.bin", b"\0" * 300_000)])
    data = bytearray(path.read_bytes())
    central, local = central_records(bytes(data))["zeros.bin"]
    struct.pack_into("<I", data, local + 22, 10)  # both headers claim 10 bytes
    struct.pack_into("<I", data, central + 24, 10)
    path.write_bytes(bytes(data))
    result = validate(path, limits=Limits(max_entry_size=100_000))
    assert codes(result) == {"ENTRY_TOO_LARGE"}


# -- manifest ---------------------------------------------------------------------------------------------


def test_missing_manifest(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [("icon.png", make_icon_png())])
    assert codes(validate(path)) == {"MANIFEST_MISSING"}


def test_manifest_not_at_root_is_missing(tmp_path):
    path = write_zip(tmp_path / "x.mpk", [("sub/manifest.json", json.dumps(manifest()))])
    assert "MANIFEST_MISSING" in codes(validate(path))


@pytest.mark.parametrize(
    "content", [b"{not json", b"[1, 2]", b"\xff\xfe{}", b'{"a": 1, "a": 2}', b'{"a": NaN}']
)
def test_invalid_json_manifest(tmp_path, content):
    path = write_zip(tmp_path / "x.mpk", [("manifest.json", content), ("icon.png", make_icon_png())])
    assert codes(validate(path)) == {"MANIFEST_INVALID_JSON"}


@pytest.mark.parametrize(
    "extra",
    [
        '"permissions": [' + "[" * 900 + "]" * 900 + ", " + "[" * 900 + "]" * 900 + "]",
        '"description": "\\ud800"',
        '"requires_restart": 1e400',
    ],
)
def test_hostile_json_shapes_are_invalid_json(tmp_path, extra):
    text = json.dumps(manifest(permissions=..., requires_restart=...))[:-1] + ", " + extra + "}"
    path = write_zip(tmp_path / "x.mpk", [("manifest.json", text), ("icon.png", make_icon_png())])
    assert codes(validate(path)) == {"MANIFEST_INVALID_JSON"}


def test_manifest_too_large(tmp_path):
    big = manifest(description="x" * 70_000)
    path = write_zip(tmp_path / "x.mpk", [("manifest.json", json.dumps(big)), ("icon.png", make_icon_png())])
    assert codes(validate(path)) == {"MANIFEST_TOO_LARGE"}


def test_schema_violating_manifest(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(name=..., version_code="14", permissions="network"))
    result = validate(path)
    assert codes(result) == {"MANIFEST_SCHEMA"}
    messages = " ".join(i.message for i in result.errors)
    assert "name" in messages and "/version_code" in messages and "/permissions" in messages


@pytest.mark.parametrize("package_id", ["Com.Example", "com", "com..x", "1com.x", "com.example-notes"])
def test_bad_package_id_pattern(tmp_path, package_id):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(package_id=package_id))
    assert "MANIFEST_SCHEMA" in codes(validate(path))


def test_package_id_mismatch(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(package_id="com.example.other"))
    assert codes(validate(path)) == {"PACKAGE_ID_MISMATCH"}


def test_version_code_mismatch(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(version_code=15))
    assert codes(validate(path)) == {"VERSION_CODE_MISMATCH"}


def test_version_name_mismatch(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(version_name="1.4.1"))
    assert codes(validate(path)) == {"VERSION_NAME_MISMATCH"}


def test_non_semver_version_name(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(version_name="1.4"))
    expected = Expected(package_id="com.example.notes", version_code=14, version_name="1.4")
    assert codes(validate(path, expected=expected)) == {"VERSION_NAME_NOT_SEMVER"}


def test_min_mosis_version_above_max(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(min_mosis_version="2.10", max_mosis_version="2.9.5"))
    assert codes(validate(path)) == {"MOSIS_VERSION_RANGE"}


@pytest.mark.parametrize("spec", ["^^2", "not a range", ">=1.0.0 <"])
def test_bad_dependency_range(tmp_path, spec):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(dependencies={"com.example.sync": spec}))
    assert codes(validate(path)) == {"INVALID_DEPENDENCY_RANGE"}


def test_dependency_on_self(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(dependencies={"com.example.notes": "^1.0.0"}))
    assert codes(validate(path)) == {"DEPENDENCY_ON_SELF"}


def test_float_version_code_is_refused(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(version_code=14.0))
    assert codes(validate(path)) == {"MANIFEST_SCHEMA"}


def test_unknown_permission(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(permissions=["network", "telepathy"]))
    result = validate(path)
    assert codes(result) == {"UNKNOWN_PERMISSION"}
    assert result.permissions == ["network"]


# -- icon -------------------------------------------------------------------------------------------------


def test_missing_icon(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(), icon=None)
    assert codes(validate(path)) == {"ICON_MISSING"}


def test_icon_not_a_png(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(), icon=b"GIF89a" + b"\0" * 100)
    assert codes(validate(path)) == {"ICON_NOT_PNG"}


def test_icon_with_png_signature_but_corrupt_data(tmp_path):
    png = bytearray(make_icon_png(64))
    png[-30:-20] = b"\xff" * 10
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(), icon=bytes(png))
    assert codes(validate(path)) == {"ICON_NOT_PNG"}


@pytest.mark.parametrize("size", [8, 2048])
def test_icon_outside_pixel_bounds(tmp_path, size):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(), icon=make_icon_png(size))
    assert codes(validate(path)) == {"ICON_DIMENSIONS"}


def test_icon_too_large_in_bytes(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(), icon=make_icon_png(64))
    assert codes(validate(path, limits=Limits(max_icon_bytes=100))) == {"ICON_TOO_LARGE"}


# -- signatures -------------------------------------------------------------------------------------------


def signing_key(kind="ed25519", *, key_id="k1", active=True):
    private, pem = generate_signing_key(kind)
    return private, PublicSigningKey(
        id=key_id, fingerprint=fingerprint(pem), public_key_pem=pem, active=active
    )


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa-p256", "rsa"])
def test_valid_signature_for_each_algorithm(good_package, kind):
    private, key = signing_key(kind)
    _, other = signing_key("ed25519", key_id="k0")
    result = validate(
        good_package, signature=sign_file(good_package, private), keys=[other, key], require_signature=True
    )
    assert result.ok, result.report()
    assert result.signing_key_id == "k1"
    assert result.signing_key_fingerprint == key.fingerprint


def test_valid_signature_with_named_key(good_package):
    private, key = signing_key("ecdsa-p256")
    result = validate(
        good_package,
        signature=sign_file(good_package, private),
        keys=[key],
        key_id="k1",
        require_signature=True,
    )
    assert result.ok and result.signing_key_id == "k1"


@pytest.mark.parametrize("kind", ["ed25519", "ecdsa-p256", "rsa"])
def test_forged_signature(tmp_path, good_package, kind):
    private, key = signing_key(kind)
    other = tmp_path / "other.mpk"
    build_package(other, manifest=manifest(name="Other"))
    signature = sign_file(other, private)  # a real signature, of different bytes
    assert codes(validate(good_package, signature=signature, keys=[key])) == {"SIGNATURE_INVALID"}


def test_wrapped_base64_signature_is_accepted(good_package):
    private, key = signing_key("rsa")
    signature = sign_file(good_package, private)
    wrapped = "\n".join(signature[i : i + 76] for i in range(0, len(signature), 76)) + "\n"
    assert validate(good_package, signature=wrapped, keys=[key]).ok


def test_raw_r_s_ecdsa_signature_is_accepted(good_package):
    private, key = signing_key("ecdsa-p256")
    r, s = decode_dss_signature(base64.b64decode(sign_file(good_package, private)))
    raw = base64.b64encode(r.to_bytes(32, "big") + s.to_bytes(32, "big")).decode()
    assert validate(good_package, signature=raw, keys=[key]).ok


def test_signature_not_base64(good_package):
    _, key = signing_key()
    assert codes(validate(good_package, signature="not base64!!", keys=[key])) == {"SIGNATURE_INVALID"}


def test_signature_by_someone_elses_key(good_package):
    private, _ = signing_key()
    _, mine = signing_key()
    assert codes(validate(good_package, signature=sign_file(good_package, private), keys=[mine])) == {
        "SIGNATURE_INVALID"
    }


@pytest.mark.parametrize("named", [True, False])
def test_signature_by_revoked_key(good_package, named):
    private, key = signing_key(active=False)
    result = validate(
        good_package, signature=sign_file(good_package, private), keys=[key], key_id="k1" if named else None
    )
    assert codes(result) == {"SIGNATURE_KEY_REVOKED"}
    assert result.signing_key_id is None


def test_signature_with_unknown_key_id(good_package):
    private, key = signing_key()
    result = validate(good_package, signature=sign_file(good_package, private), keys=[key], key_id="nope")
    assert codes(result) == {"SIGNATURE_KEY_UNKNOWN"}


def test_signature_missing_when_required(good_package):
    assert codes(validate(good_package, require_signature=True)) == {"SIGNATURE_MISSING"}


def test_signature_optional_when_not_required(good_package):
    assert validate(good_package, require_signature=False).ok


# -- fail closed and fuzzing --------------------------------------------------------------------------------


def test_unexpected_exception_fails_closed(good_package, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(zipcheck, "scan_entries", boom)
    result = validate(good_package)
    assert not result.ok
    assert [i.code for i in result.errors] == ["INTERNAL"]
    assert result.icon_png is None


def test_missing_file_is_reported_not_raised(tmp_path):
    result = validate(tmp_path / "nope.mpk")
    assert codes(result) == {"PACKAGE_UNREADABLE"}


def test_directory_instead_of_file_is_reported_not_raised(tmp_path):
    assert codes(validate(tmp_path)) == {"PACKAGE_UNREADABLE"}


_FUZZ_KEY, _FUZZ_PUBLIC = signing_key("ecdsa-p256")


def _fuzz_base() -> bytes:
    buf = io.BytesIO()
    build_package(buf, manifest=manifest(), files={"a.txt": b"hello " * 100, "nls/en/m.json": b"{}"})
    return buf.getvalue()


_BASE = _fuzz_base()


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_raise(tmp_path, data):
    path = tmp_path / "fuzz.mpk"
    path.write_bytes(data)
    result = validate(path)
    assert not result.ok
    assert "INTERNAL" not in codes(result), result.report()


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    edits=st.lists(st.tuples(st.integers(0, len(_BASE) - 1), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.integers(0, len(_BASE))),
)
def test_mutated_packages_never_raise_and_never_pass_a_signature(tmp_path, edits, cut):
    original = tmp_path / "orig.mpk"
    original.write_bytes(_BASE)
    signature = sign_file(original, _FUZZ_KEY)
    data = bytearray(_BASE)
    for pos, value in edits:
        data[pos] = value
    data = bytes(data[:cut] if cut is not None else data)
    path = tmp_path / "fuzz.mpk"
    path.write_bytes(data)
    result = validate(path, signature=signature, keys=[_FUZZ_PUBLIC], require_signature=True)
    assert "INTERNAL" not in codes(result), result.report()
    if data != _BASE:
        assert not result.ok
    else:
        assert result.ok


def test_every_issue_code_and_permission_is_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "package-format.md").read_text()
    for code in ISSUE_CODES:
        assert f"| `{code}` |" in doc, code
    for permission in PERMISSIONS:
        assert f"| `{permission}` |" in doc, permission


def test_mosis_version_parts_above_999_are_refused_like_the_store_does(tmp_path):
    """The manifest pattern and versions.constants.mosis_version_number agree: each part is 0..999."""
    from mosis_package.manifest import MOSIS_VERSION_PATTERN
    from versions.constants import mosis_version_number

    assert re.match(MOSIS_VERSION_PATTERN, "999.999.999") and mosis_version_number("999.999.999")
    assert not re.match(MOSIS_VERSION_PATTERN, "1000.0")
    with pytest.raises(ValueError):
        mosis_version_number("1000.0")


def test_dependencies_in_the_object_form_are_recorded_with_their_rules(tmp_path):
    path = tmp_path / "x.mpk"
    dependencies = {
        "com.example.sync": "^2.1.0",
        "com.example.maps": {"version": "^3", "optional": True, "description": "Shows notes on a map."},
        "com.example.cloud": {"version": "~1.2", "optional": True, "default": True},
        "com.example.fonts": {"version": ">=1.0.0", "config": {"ligatures": True, "size": 12, "set": "x"}},
    }
    build_package(path, manifest=manifest(dependencies=dependencies))
    result = validate(path)
    assert result.ok, result.errors
    assert result.dependencies == {
        "com.example.cloud": "~1.2",
        "com.example.fonts": ">=1.0.0",
        "com.example.maps": "^3",
        "com.example.sync": "^2.1.0",
    }
    assert result.dependency_rules == {
        "com.example.cloud": {"optional": True, "default": True, "description": "", "config": {}},
        "com.example.fonts": {
            "optional": False,
            "default": True,
            "description": "",
            "config": {"ligatures": True, "size": 12, "set": "x"},
        },
        "com.example.maps": {
            "optional": True,
            "default": False,
            "description": "Shows notes on a map.",
            "config": {},
        },
    }


@pytest.mark.parametrize(
    "value",
    [
        {"optional": True},  # no version
        {"version": "^1", "optional": "yes"},
        {"version": "^1", "surprise": 1},
        {"version": "^1", "config": {"Bad Key": 1}},
        {"version": "^1", "config": {"k": {"nested": 1}}},
        {"version": "^1", "config": {"k": "x" * 201}},
        {"version": "^1", "config": {f"k{i}": i for i in range(17)}},
        {"version": "^1", "description": "x" * 501},
        ["^1"],
    ],
)
def test_a_malformed_dependency_object_is_a_schema_error(tmp_path, value):
    path = tmp_path / "x.mpk"
    build_package(path, manifest=manifest(dependencies={"com.example.sync": value}))
    assert codes(validate(path)) == {"MANIFEST_SCHEMA"}


def test_a_bad_range_in_the_object_form_is_reported_like_the_string_form(tmp_path):
    path = tmp_path / "x.mpk"
    build_package(
        path, manifest=manifest(dependencies={"com.example.sync": {"version": "^^2", "optional": True}})
    )
    assert codes(validate(path)) == {"INVALID_DEPENDENCY_RANGE"}
