"""`diff_packages`: what changed between two packages, file by file, read through the strict ZIP reader.

Contract:
* Pure function of the two files (no Django, no network, no writes). Nothing is ever extracted: entries are
  inflated in bounded chunks by `zipcheck.inflate_entry`, the reader validation uses, under the same
  `Limits` (entry count, per-entry size and ratio, total inflated bytes), so diffing a hostile archive costs
  at most what validating it costs. Entry names are only ever dictionary keys and report text.
* Never raises for a bad archive: a structure the reader refuses gives `PackageDiffResult.error`; an entry it
  cannot inflate is listed as `unreadable` with the reason.
* Files are compared by the SHA-256 of their inflated bytes (CRC-32 can be forged to collide). Text files
  that changed (and text files that were added) get a unified diff, bounded per file and per package;
  binaries and files over `DiffLimits.max_text_bytes` are described by size and hash.
* Memory: both central directories, one small record per entry, at most two files' text at a time (each
  ≤ `max_text_bytes`) and the diffs kept (≤ `max_total_diff_bytes`).
* Time: each package is inflated once to hash it, then at most `max_total_text_bytes` of text is read again
  to diff. difflib is quadratic on some inputs (a 256 KiB file of alternating equal and changed lines takes
  ~20 s), so a file of more than `max_text_lines` lines is compared by hash only, and once text diffs have
  taken `max_diff_seconds` the remaining files are too: the whole diff stays within a worker's minute.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from . import zipcheck
from .limits import KiB, Limits, MiB
from .manifest import MANIFEST_NAME

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
TEXT = "text"
BINARY = "binary"
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class DiffLimits:
    """Bounds of one package diff (what a reviewer can read in a page, and what a worker spends)."""

    max_text_bytes: int = 256 * KiB  # a file bigger than this (either side) is compared by hash only
    max_text_lines: int = 5000  # ... and one with more lines (difflib's cost grows with lines squared)
    max_diff_bytes: int = 64 * KiB  # unified diff kept per file; the rest is cut and marked truncated
    max_total_diff_bytes: int = 8 * MiB  # unified diffs kept per package diff
    max_total_text_bytes: int = 128 * MiB  # text read back to diff per package diff
    max_diff_seconds: float = 20.0  # time spent diffing text per package diff; then hashes only
    max_line_chars: int = 1000  # a longer line (minified code) is cut in the shown diff
    context_lines: int = 3


@dataclass
class FileDiff:
    """One file that differs between the packages."""

    path: str
    change: str  # ADDED | REMOVED | CHANGED
    kind: str = ""  # TEXT | BINARY | UNREADABLE ("" for a removed file: it is not read again)
    old_size: int | None = None
    new_size: int | None = None
    old_sha256: str = ""
    new_sha256: str = ""
    diff: str = ""  # unified diff (TEXT only)
    truncated: bool = False
    note: str = ""  # why there is no diff, or why the file could not be read


@dataclass
class PackageDiffResult:
    files: list[FileDiff] = field(default_factory=list)
    unchanged: int = 0
    old_uncompressed: int = 0
    new_uncompressed: int = 0
    error: str | None = None  # the archive itself could not be read; nothing else is meaningful

    def count(self, change: str) -> int:
        return sum(1 for f in self.files if f.change == change)


@dataclass
class _Scanned:
    entry: zipcheck.Entry
    size: int
    sha256: str = ""
    problem: str = ""  # non-empty: the entry could not be read safely


class InflateBudget:
    """Total inflated bytes of one archive, shared by its entries (the interface `inflate_entry` takes)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0
        self.exhausted = False


class _Archive:
    """One package opened for diffing: its central directory and a (path → size, hash) table."""

    def __init__(self, fh: BinaryIO, limits: Limits):
        self.fh = fh
        self.limits = limits
        self.files: dict[str, _Scanned] = {}
        self.uncompressed = 0

    def scan(self) -> None:
        """Read the structure (raises `zipcheck.FatalZipError`) and hash every file in archive order."""
        size = os.fstat(self.fh.fileno()).st_size
        if size > self.limits.max_package_size:
            raise zipcheck.FatalZipError(
                "PACKAGE_TOO_LARGE", f"The package is larger than {self.limits.max_package_size} bytes."
            )
        structure = zipcheck.read_structure(self.fh, size, self.limits)
        reasons: dict[str, str] = {}
        for issue in structure.issues:
            if issue.path is not None:
                reasons.setdefault(issue.path, issue.message)
        budget = InflateBudget(self.limits.max_total_uncompressed)
        for entry in sorted(structure.entries, key=lambda e: e.data_offset):
            if entry.is_dir or entry.name in self.files:
                continue  # duplicates are refused by validation; the first one is the one compared
            scanned = _Scanned(entry=entry, size=entry.file_size)
            self.files[entry.name] = scanned
            if not entry.readable:
                scanned.problem = reasons.get(entry.name, "The entry cannot be read safely.")
                continue
            if budget.exhausted:
                scanned.problem = "Not read: the package inflates past its total size limit."
                continue
            digest = hashlib.sha256()
            try:
                zipcheck.inflate_entry(self.fh, entry, self.limits, budget=budget, sink=digest.update)
            except zipcheck.EntryLimitExceeded as exc:
                scanned.problem = str(exc)
                continue
            scanned.sha256 = digest.hexdigest()
            self.uncompressed += entry.file_size

    def read(self, scanned: _Scanned, max_size: int) -> bytes:
        return zipcheck.read_entry(self.fh, scanned.entry, self.limits, max_size)


def diff_packages(
    old_path: str | os.PathLike | None,
    new_path: str | os.PathLike,
    *,
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe as a default
    diff_limits: DiffLimits = DiffLimits(),  # noqa: B008
    clock: Callable[[], float] = time.monotonic,
) -> PackageDiffResult:
    """Compare the package at `new_path` with the one at `old_path` (None: an empty package, so every file
    is added). See the module docstring for the contract; `clock` measures `max_diff_seconds`."""
    result = PackageDiffResult()
    try:
        new_fh = open(new_path, "rb")  # noqa: SIM115 - closed in the finally below
    except OSError as exc:
        result.error = f"The new package cannot be read ({exc.strerror})."
        return result
    old_fh = None
    try:
        if old_path is not None:
            try:
                old_fh = open(old_path, "rb")  # noqa: SIM115
            except OSError as exc:
                result.error = f"The previous package cannot be read ({exc.strerror})."
                return result
        new = _Archive(new_fh, limits)
        old = _Archive(old_fh, limits) if old_fh is not None else None
        for label, archive in (("new", new), ("previous", old)):
            if archive is None:
                continue
            try:
                archive.scan()
            except zipcheck.FatalZipError as exc:
                result.error = f"The {label} package cannot be read safely: {exc.issue.message}"
                return result
        result.new_uncompressed = new.uncompressed
        result.old_uncompressed = old.uncompressed if old is not None else 0
        _compare(old, new, result, diff_limits, clock)
        return result
    finally:
        new_fh.close()
        if old_fh is not None:
            old_fh.close()


def _compare(
    old: _Archive | None,
    new: _Archive,
    result: PackageDiffResult,
    limits: DiffLimits,
    clock: Callable[[], float],
) -> None:
    old_files = old.files if old is not None else {}
    budget = _TextBudget(limits, clock)
    # The manifest first (it says what the package asks for), then every path in order.
    paths = sorted(set(old_files) | set(new.files), key=lambda p: (p != MANIFEST_NAME, p))
    for path in paths:
        before, after = old_files.get(path), new.files.get(path)
        if before is not None and after is not None and before.sha256 and before.sha256 == after.sha256:
            result.unchanged += 1
            continue
        change = ADDED if before is None else REMOVED if after is None else CHANGED
        item = FileDiff(path=path, change=change)
        if before is not None:
            item.old_size, item.old_sha256 = before.size, before.sha256
        if after is not None:
            item.new_size, item.new_sha256 = after.size, after.sha256
        problem = (before.problem if before is not None else "") or (after.problem if after else "")
        if problem:
            item.kind, item.note = UNREADABLE, problem
        elif after is not None:
            _describe_content(item, old, before, new, after, budget, limits)
        result.files.append(item)


class _TextBudget:
    def __init__(self, limits: DiffLimits, clock: Callable[[], float]):
        self.text_left = limits.max_total_text_bytes
        self.diff_left = limits.max_total_diff_bytes
        self.clock = clock
        self.deadline = clock() + limits.max_diff_seconds

    def exhausted(self, size: int) -> str:
        """Why no more text can be diffed ("" while it can)."""
        if size > self.text_left or self.diff_left <= 0:
            return "Not diffed: this package diff's text budget is used up (compared by hash only)."
        if self.clock() >= self.deadline:
            return "Not diffed: this package diff's time budget is used up (compared by hash only)."
        return ""


def _describe_content(
    item: FileDiff,
    old: _Archive | None,
    before: _Scanned | None,
    new: _Archive,
    after: _Scanned,
    budget: _TextBudget,
    limits: DiffLimits,
) -> None:
    """Set `kind` and, for text, the bounded unified diff of an added or changed file. The first 8 KiB tell
    text from binary, so binaries never spend the text budget."""
    textual = _looks_textual(new, after) and (before is None or old is None or _looks_textual(old, before))
    item.kind = TEXT if textual else BINARY
    if not textual:
        return
    sizes = [after.size] + ([before.size] if before is not None else [])
    if max(sizes) > limits.max_text_bytes:
        item.note = f"Larger than {limits.max_text_bytes // KiB} KiB: compared by hash only."
        return
    used_up = budget.exhausted(sum(sizes))
    if used_up:
        item.note = used_up
        return
    try:
        new_bytes = new.read(after, limits.max_text_bytes)
        old_bytes = old.read(before, limits.max_text_bytes) if old is not None and before else b""
    except zipcheck.EntryLimitExceeded as exc:
        item.kind, item.note = UNREADABLE, str(exc)
        return
    budget.text_left -= len(new_bytes) + len(old_bytes)
    new_text, old_text = _as_text(new_bytes), _as_text(old_bytes)
    if new_text is None or old_text is None:
        item.kind = BINARY
        return
    item.kind = TEXT
    lines = max(new_text.count("\n"), old_text.count("\n")) + 1
    if lines > limits.max_text_lines:
        item.note = f"More than {limits.max_text_lines} lines: compared by hash only."
        return
    item.diff, item.truncated = unified_diff(
        old_text,
        new_text,
        item.path,
        limits=limits,
        max_bytes=min(limits.max_diff_bytes, budget.diff_left),
        added=before is None,
    )
    budget.diff_left -= len(item.diff.encode("utf-8"))
    if item.truncated:
        item.note = "The diff is cut: it is longer than a reviewer page holds."


def _looks_textual(archive: _Archive, scanned: _Scanned) -> bool:
    """For files too large to diff: text if the first 8 KiB are NUL-free UTF-8 (read through the reader)."""
    head = bytearray()

    class _Enough(Exception):
        pass

    def sink(chunk: bytes) -> None:
        head.extend(chunk[: 8 * KiB - len(head)])
        if len(head) >= 8 * KiB:
            raise _Enough

    try:
        zipcheck.inflate_entry(archive.fh, scanned.entry, archive.limits, sink=sink)
    except _Enough:
        pass
    except zipcheck.EntryLimitExceeded:
        return False
    data = bytes(head)
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(data) - 3  # a multi-byte character cut at the 8 KiB boundary
    return True


def _as_text(data: bytes) -> str | None:
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def unified_diff(
    old_text: str, new_text: str, path: str, *, limits: DiffLimits, max_bytes: int, added: bool = False
) -> tuple[str, bool]:
    """The unified diff of two texts, at most `max_bytes` of UTF-8 and each line at most
    `limits.max_line_chars` characters; returns (diff, truncated). `added`: the old side is no file."""
    lines = difflib.unified_diff(
        old_text.splitlines(),
        new_text.splitlines(),
        fromfile="/dev/null" if added else f"a/{path}",
        tofile=f"b/{path}",
        n=limits.context_lines,
        lineterm="",
    )
    out: list[str] = []
    used = 0
    for line in lines:
        if len(line) > limits.max_line_chars:
            line = line[: limits.max_line_chars] + " …"
        size = len(line.encode("utf-8")) + 1
        if used + size > max_bytes:
            return "\n".join(out), True
        out.append(line)
        used += size
    return "\n".join(out), False


def manifest_changes(old: dict | None, new: dict | None) -> list[dict]:
    """Field-by-field differences of two manifests: `[{"field", "change", "old", "new"}]`, values as compact
    JSON text (None when absent), fields in name order."""
    old, new = old or {}, new or {}
    changes = []
    for key in sorted(set(old) | set(new)):
        if key in old and key in new and old[key] == new[key]:
            continue
        change = ADDED if key not in old else REMOVED if key not in new else CHANGED
        changes.append(
            {
                "field": key,
                "change": change,
                "old": _json_text(old[key]) if key in old else None,
                "new": _json_text(new[key]) if key in new else None,
            }
        )
    return changes


def _json_text(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))
