"""mosis_package.diff: file-by-file package diffs through the strict ZIP reader, bounded, never extracting."""

import io
import json
import os
import stat
import zipfile
import zlib
from pathlib import Path

import pytest

from mosis_package import Limits, build_package
from mosis_package.diff import (
    ADDED,
    BINARY,
    CHANGED,
    REMOVED,
    TEXT,
    UNREADABLE,
    DiffLimits,
    diff_packages,
    manifest_changes,
)

MANIFEST = {"package_id": "com.example.diff", "name": "Diff", "version_name": "1.0.0", "version_code": 1}


def write(tmp_path, name: str, files: dict[str, bytes], manifest: dict | None = None) -> str:
    out = io.BytesIO()
    build_package(out, manifest=manifest or MANIFEST, files=files, icon=None)
    path = tmp_path / name
    path.write_bytes(out.getvalue())
    return str(path)


def raw_zip(tmp_path, name: str, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> str:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return str(path)


def by_path(result):
    return {item.path: item for item in result.files}


def test_added_removed_changed_and_unchanged_files_with_sizes_and_hashes(tmp_path):
    old = write(
        tmp_path,
        "old.mpk",
        {
            "src/a.js": b"one\ntwo\nthree\n",
            "img.bin": b"\x00\x01" * 50,
            "gone.txt": b"bye\n",
            "same.txt": b"=",
        },
    )
    new = write(
        tmp_path,
        "new.mpk",
        {
            "src/a.js": b"one\n2\nthree\n",
            "img.bin": b"\x00\x02" * 50,
            "new.txt": b"hello\n",
            "same.txt": b"=",
        },
        manifest={**MANIFEST, "version_name": "1.1.0", "version_code": 2},
    )
    result = diff_packages(old, new)
    assert result.error is None
    files = by_path(result)
    assert [f.path for f in result.files] == ["manifest.json", "gone.txt", "img.bin", "new.txt", "src/a.js"]
    assert (files["gone.txt"].change, files["gone.txt"].old_size, files["gone.txt"].new_size) == (
        REMOVED,
        4,
        None,
    )
    assert files["new.txt"].change == ADDED and files["new.txt"].new_size == 6
    assert files["img.bin"].change == CHANGED and files["img.bin"].kind == BINARY
    assert files["img.bin"].diff == "" and len(files["img.bin"].new_sha256) == 64
    assert files["img.bin"].old_sha256 != files["img.bin"].new_sha256
    text = files["src/a.js"]
    assert (text.kind, text.old_size, text.new_size) == (TEXT, 14, 12)
    assert text.diff.splitlines() == [
        "--- a/src/a.js",
        "+++ b/src/a.js",
        "@@ -1,3 +1,3 @@",
        " one",
        "-two",
        "+2",
        " three",
    ]
    assert "/dev/null" in files["new.txt"].diff and "+hello" in files["new.txt"].diff
    assert (result.count(ADDED), result.count(REMOVED), result.count(CHANGED), result.unchanged) == (
        1,
        1,
        3,
        1,
    )
    assert result.new_uncompressed > 0 and result.old_uncompressed > 0


def test_a_first_version_is_all_added(tmp_path):
    new = write(tmp_path, "new.mpk", {"a.txt": b"a\n"})
    result = diff_packages(None, new)
    assert {f.change for f in result.files} == {ADDED}
    assert result.files[0].path == "manifest.json"


def crc32_collision() -> tuple[bytes, bytes]:
    """Two different 8-byte strings with one CRC-32 (CRC is affine over GF(2): find a non-zero difference in
    the kernel of d -> crc32(d) ^ crc32(0^8) by Gaussian elimination)."""
    zero = zlib.crc32(bytes(8))
    pivots: dict[int, tuple[int, int]] = {}  # highest bit of an image -> (image, combination of input bits)
    for bit in range(64):
        image = zlib.crc32((1 << bit).to_bytes(8, "little")) ^ zero
        combo = 1 << bit
        while image and (image.bit_length() - 1) in pivots:
            pivot_image, pivot_combo = pivots[image.bit_length() - 1]
            image, combo = image ^ pivot_image, combo ^ pivot_combo
        if image == 0:
            return bytes(8), combo.to_bytes(8, "little")
        pivots[image.bit_length() - 1] = (image, combo)
    raise AssertionError("no collision found")


def test_same_crc_is_not_trusted_contents_are_hashed(tmp_path):
    # Two contents with one CRC-32 and one size would fool a header comparison; hashing tells them apart.
    a, b = crc32_collision()
    assert a != b and zlib.crc32(a) == zlib.crc32(b)
    old = write(tmp_path, "old.mpk", {"x.bin": a})
    new = write(tmp_path, "new.mpk", {"x.bin": b})
    assert by_path(diff_packages(old, new))["x.bin"].change == CHANGED


def test_text_bigger_than_the_limit_is_compared_by_hash_only(tmp_path):
    old = write(tmp_path, "old.mpk", {"big.txt": b"a\n" * 600})
    new = write(tmp_path, "new.mpk", {"big.txt": b"b\n" * 600})
    item = by_path(diff_packages(old, new, diff_limits=DiffLimits(max_text_bytes=1000)))["big.txt"]
    assert (item.kind, item.diff) == (TEXT, "")
    assert "compared by hash only" in item.note


def test_each_diff_is_cut_at_its_bound_and_marked(tmp_path):
    old = write(tmp_path, "old.mpk", {"long.txt": "".join(f"line {i}\n" for i in range(2000)).encode()})
    new = write(tmp_path, "new.mpk", {"long.txt": "".join(f"LINE {i}\n" for i in range(2000)).encode()})
    item = by_path(diff_packages(old, new, diff_limits=DiffLimits(max_diff_bytes=2000)))["long.txt"]
    assert item.truncated is True
    assert len(item.diff.encode()) <= 2000
    assert "cut" in item.note


def test_long_lines_are_cut_in_the_shown_diff(tmp_path):
    old = write(tmp_path, "old.mpk", {"min.js": b"x" * 5000})
    new = write(tmp_path, "new.mpk", {"min.js": b"y" * 5000})
    item = by_path(diff_packages(old, new, diff_limits=DiffLimits(max_line_chars=100)))["min.js"]
    assert max(len(line) for line in item.diff.splitlines()) <= 102


def test_the_package_wide_budgets_stop_diffing_but_keep_listing(tmp_path):
    old_files = {f"f{i}.txt": f"old {i}\n".encode() * 20 for i in range(10)}
    new_files = {f"f{i}.txt": f"new {i}\n".encode() * 20 for i in range(10)}
    old = write(tmp_path, "old.mpk", old_files)
    new = write(tmp_path, "new.mpk", new_files)
    result = diff_packages(old, new, diff_limits=DiffLimits(max_total_text_bytes=500))
    changed = [f for f in result.files if f.path.startswith("f")]
    assert len(changed) == 10
    assert any(f.diff for f in changed)
    assert any("budget is used up" in f.note and not f.diff for f in changed)
    result = diff_packages(old, new, diff_limits=DiffLimits(max_total_diff_bytes=300))
    assert sum(len(f.diff.encode()) for f in result.files) <= 300


def test_a_file_with_too_many_lines_is_compared_by_hash_only(tmp_path):
    old = write(tmp_path, "old.mpk", {"many.txt": b"a\n" * 60})
    new = write(tmp_path, "new.mpk", {"many.txt": b"b\n" * 60})
    item = by_path(diff_packages(old, new, diff_limits=DiffLimits(max_text_lines=50)))["many.txt"]
    assert (item.kind, item.diff) == (TEXT, "")
    assert "More than 50 lines" in item.note


def test_once_the_time_budget_is_spent_the_rest_is_compared_by_hash(tmp_path):
    old = write(tmp_path, "old.mpk", {f"f{i}.txt": b"old\n" for i in range(5)})
    new = write(tmp_path, "new.mpk", {f"f{i}.txt": b"new\n" for i in range(5)})
    ticks = iter(range(100))  # every reading of the clock is one second later

    result = diff_packages(old, new, diff_limits=DiffLimits(max_diff_seconds=3), clock=lambda: next(ticks))
    files = [f for f in result.files if f.path.startswith("f")]
    diffed = [f.path for f in files if f.diff]
    assert diffed == ["f0.txt", "f1.txt"]  # tick 0 set the deadline at 3; f2 reads 3
    assert all("time budget is used up" in f.note for f in files if not f.diff)


def test_binary_is_detected_by_nul_bytes_or_invalid_utf8(tmp_path):
    old = write(tmp_path, "old.mpk", {"a.dat": b"text\n", "b.dat": b"text\n"})
    new = write(tmp_path, "new.mpk", {"a.dat": b"te\x00xt\n", "b.dat": b"\xff\xfe\n"})
    files = by_path(diff_packages(old, new))
    assert files["a.dat"].kind == BINARY and files["b.dat"].kind == BINARY


def test_manifest_changes_field_by_field():
    old = {"permissions": ["network"], "name": "A", "gone": 1, "same": True}
    new = {"permissions": ["network", "camera"], "name": "A", "added": {"x": "^1"}, "same": True}
    assert manifest_changes(old, new) == [
        {"field": "added", "change": ADDED, "old": None, "new": '{"x": "^1"}'},
        {"field": "gone", "change": REMOVED, "old": "1", "new": None},
        {"field": "permissions", "change": CHANGED, "old": '["network"]', "new": '["network", "camera"]'},
    ]
    assert manifest_changes(None, {"a": 1})[0]["change"] == ADDED


# --- hostile archives: read through the same reader as validation, never extracted --------------------------
@pytest.fixture
def read_only_diff(monkeypatch):
    """While the diff runs, zipfile (which can extract) is unusable and files may only be opened to read."""
    import builtins

    real_open = builtins.open

    def refuse(*args, **kwargs):
        raise AssertionError("the diff must not use zipfile")

    def read_only_open(file, mode="r", *args, **kwargs):
        if any(flag in mode for flag in "wax+"):
            raise AssertionError(f"the diff opened {file!r} to write")
        return real_open(file, mode, *args, **kwargs)

    def arm():
        monkeypatch.setattr(zipfile, "ZipFile", refuse)
        monkeypatch.setattr(builtins, "open", read_only_open)
        monkeypatch.setattr(os, "open", refuse)

    return arm


def test_hostile_names_are_listed_as_text_and_nothing_is_written(tmp_path, read_only_diff):
    symlink = zipfile.ZipInfo("link")
    symlink.create_system = 3
    symlink.external_attr = (stat.S_IFLNK | 0o777) << 16
    old = raw_zip(tmp_path, "old.mpk", [("manifest.json", json.dumps(MANIFEST).encode())])
    new = raw_zip(
        tmp_path,
        "new.mpk",
        [
            ("manifest.json", json.dumps(MANIFEST).encode()),
            (zipfile.ZipInfo("../../escape.txt"), b"escaped?"),
            (zipfile.ZipInfo("/abs/path.txt"), b"absolute?"),
            ("<script>alert(1)</script>.js", b"<img src=x onerror=alert(1)>"),
            (symlink, b"/etc/passwd"),
            ("bomb.bin", b"\x00" * (4 * 1024 * 1024)),
        ],
    )
    before = sorted(p.name for p in tmp_path.parent.iterdir()), sorted(os.listdir(tmp_path))
    read_only_diff()
    result = diff_packages(old, new)
    assert result.error is None
    files = by_path(result)
    assert files["../../escape.txt"].change == ADDED
    assert files["/abs/path.txt"].change == ADDED
    assert "+<img src=x onerror=alert(1)>" in files["<script>alert(1)</script>.js"].diff
    assert files["link"].kind == UNREADABLE and "Symbolic links" in files["link"].note
    assert files["bomb.bin"].kind == UNREADABLE and "inflates more than" in files["bomb.bin"].note
    assert (sorted(p.name for p in tmp_path.parent.iterdir()), sorted(os.listdir(tmp_path))) == before


@pytest.mark.parametrize(
    "mangle,message",
    [
        (lambda data: data + b"trailing", "follow the end of the ZIP archive"),
        (lambda data: b"not a zip at all" * 4, "not a ZIP archive"),
        (lambda data: data[: len(data) // 2], "ZIP archive"),
    ],
)
def test_an_archive_the_reader_refuses_gives_an_error_not_a_crash(tmp_path, mangle, message):
    good = write(tmp_path, "good.mpk", {"a.txt": b"a"})
    bad = tmp_path / "bad.mpk"
    bad.write_bytes(mangle(Path(good).read_bytes()))
    result = diff_packages(good, str(bad))
    assert result.files == []
    assert result.error.startswith("The new package cannot be read safely")
    assert message in result.error
    assert diff_packages(str(bad), good).error.startswith("The previous package cannot be read safely")


def test_the_readers_limits_apply(tmp_path):
    old = write(tmp_path, "old.mpk", {f"f{i}": b"x" for i in range(5)})
    result = diff_packages(None, old, limits=Limits(max_entries=3))
    assert "entries" in result.error
    result = diff_packages(None, old, limits=Limits(max_package_size=10))
    assert "larger than 10 bytes" in result.error


def test_a_total_inflation_past_the_limit_stops_reading(tmp_path):
    new = write(tmp_path, "new.mpk", {"a.bin": os.urandom(4000), "b.bin": os.urandom(4000)})
    result = diff_packages(None, new, limits=Limits(max_total_uncompressed=5000))
    notes = [f.note for f in result.files if f.kind == UNREADABLE]
    assert notes and any("total" in note for note in notes)


def test_missing_files_are_reported(tmp_path):
    good = write(tmp_path, "good.mpk", {"a.txt": b"a"})
    assert "new package cannot be read" in diff_packages(good, str(tmp_path / "nope.mpk")).error
    assert "previous package cannot be read" in diff_packages(str(tmp_path / "nope.mpk"), good).error
