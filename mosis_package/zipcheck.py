"""A strict ZIP reader for untrusted packages.

We parse the archive ourselves instead of trusting `zipfile`, because the attacks we care about are
disagreements between the structures that different unzip tools read:

* the End Of Central Directory (EOCD) must end exactly at the end of the file (no trailing data, no
  prepended stub: the first local header is at offset 0);
* every central-directory record must have a local header at its offset that agrees on name, method,
  flags and (unless a data descriptor is used) CRC and sizes; a data descriptor, if present, must agree too;
* entries are laid out back to back, in order, with no overlap and no gap, and the central directory
  follows the last one immediately;
* ZIP64 is refused: the limits (≤ 10 000 entries, ≤ 250 MiB per entry, ≤ 200 MiB archive) never need it.

Content is then inflated in chunks with `zlib.decompressobj`, counting real output bytes, so size and
ratio limits are measured, not read from headers; CRC-32 is verified on the fly.

Memory: the central directory is parsed record by record from a buffered file; entry data is read in
`READ_CHUNK` pieces and inflated to at most `INFLATE_CHUNK` bytes at a time.
"""

from __future__ import annotations

import re
import stat
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from .limits import Issue, Limits

EOCD_SIG = 0x06054B50
ZIP64_LOCATOR_SIG = 0x07064B50
CENTRAL_SIG = 0x02014B50
LOCAL_SIG = 0x04034B50
DESCRIPTOR_SIG = 0x08074B50

EOCD = struct.Struct("<IHHHHIIH")  # 22 bytes
CENTRAL = struct.Struct("<IBBHHHHHIIIHHHHHII")  # 46 bytes
LOCAL = struct.Struct("<IHHHHHIIIHH")  # 30 bytes

STORED = 0
DEFLATED = 8
FLAG_ENCRYPTED = 0x0001
FLAG_DESCRIPTOR = 0x0008
FLAG_STRONG_ENCRYPTION = 0x0040
FLAG_UTF8 = 0x0800
HOST_UNIX = 3
HOST_MACOS = 19

READ_CHUNK = 1024 * 1024
INFLATE_CHUNK = 1024 * 1024
MAX_ISSUES_PER_CODE = 20  # a 10 000-entry archive of bad names should not make a 10 000-line report

_DRIVE_RE = re.compile(r"^[A-Za-z]:")


class FatalZipError(Exception):
    """The archive's structure cannot be trusted at all; checking stops."""

    def __init__(self, code: str, message: str, path: str | None = None):
        super().__init__(message)
        self.issue = Issue(code, message, path)


@dataclass
class Entry:
    name: str
    raw_name: bytes
    flags: int
    method: int
    crc: int
    compressed_size: int
    file_size: int
    header_offset: int
    external_attr: int
    create_system: int
    is_dir: bool
    data_offset: int = 0  # first byte of compressed data, from the local header
    end_offset: int = 0  # first byte after data (and data descriptor)
    readable: bool = True  # False when its method/encryption make inflating impossible or pointless


@dataclass
class ZipReport:
    entries: list[Entry] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    cd_offset: int = 0


class _IssueSink:
    """Collects issues, capping how many of one code are listed."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        self.counts: dict[str, int] = {}

    def add(self, code: str, message: str, path: str | None = None) -> None:
        n = self.counts.get(code, 0) + 1
        self.counts[code] = n
        if n <= MAX_ISSUES_PER_CODE:
            self.issues.append(Issue(code, message, path))
        elif n == MAX_ISSUES_PER_CODE + 1:
            self.issues.append(Issue(code, "(further issues of this kind are not listed)", None))


def _read_exact(fh: BinaryIO, offset: int, size: int, size_total: int, what: str) -> bytes:
    if offset < 0 or offset + size > size_total:
        raise FatalZipError(
            "ZIP_TRUNCATED", f"The archive is truncated: {what} extends past the end of file."
        )
    fh.seek(offset)
    data = fh.read(size)
    if len(data) != size:
        raise FatalZipError("ZIP_TRUNCATED", f"The archive is truncated while reading {what}.")
    return data


def _find_eocd(fh: BinaryIO, size: int) -> tuple[int, tuple]:
    """Locate the EOCD record that ends exactly at end of file."""
    if size < EOCD.size:
        raise FatalZipError("NOT_A_ZIP", "The file is too small to be a ZIP archive.")
    tail_len = min(size, EOCD.size + 0xFFFF)
    tail = _read_exact(fh, size - tail_len, tail_len, size, "the end record")
    pos = tail.rfind(b"PK\x05\x06")
    trailing = None
    while pos >= 0:
        if pos + EOCD.size <= len(tail):
            fields = EOCD.unpack_from(tail, pos)
            comment_len = fields[7]
            end = pos + EOCD.size + comment_len
            if end == len(tail):
                return size - tail_len + pos, fields
            if end < len(tail) and trailing is None:
                trailing = len(tail) - end
        pos = tail.rfind(b"PK\x05\x06", 0, pos)
    if trailing is not None:
        raise FatalZipError(
            "ZIP_TRAILING_DATA", f"{trailing} bytes follow the end of the ZIP archive; re-create the archive."
        )
    fh.seek(0)
    if fh.read(4) == b"PK\x03\x04" or b"PK\x01\x02" in tail:
        raise FatalZipError("ZIP_TRUNCATED", "The ZIP archive is truncated: its end record is missing.")
    raise FatalZipError("NOT_A_ZIP", "The file is not a ZIP archive.")


def _check_name(raw: bytes, flags: int, limits: Limits, sink: _IssueSink) -> str | None:
    """Decode and vet an entry name. Returns the name, or None if it cannot be decoded."""
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        shown = raw.decode("utf-8", "backslashreplace")
        hint = "" if flags & FLAG_UTF8 else " (and the UTF-8 flag is not set)"
        sink.add("INVALID_NAME_ENCODING", f"Entry name is not valid UTF-8{hint}.", shown)
        return None
    if len(raw) > limits.max_name_bytes:
        sink.add(
            "NAME_TOO_LONG", f"Entry name is {len(raw)} bytes; the maximum is {limits.max_name_bytes}.", name
        )
    if "\\" in name:
        sink.add("BACKSLASH_IN_NAME", "Entry names must use '/' as separator, never '\\'.", name)
    if name.startswith("/") or _DRIVE_RE.match(name):
        sink.add("ABSOLUTE_PATH", "Entry names must be relative to the archive root.", name)
        return name
    body = name[:-1] if name.endswith("/") else name
    parts = body.split("/")
    if ".." in parts:
        sink.add("PATH_TRAVERSAL", "Entry names must not contain a '..' component.", name)
    if len(parts) > limits.max_depth:
        sink.add(
            "PATH_TOO_DEEP", f"Entry is {len(parts)} levels deep; the maximum is {limits.max_depth}.", name
        )
    if not body or any(p in ("", ".") for p in parts) or not all(p.isprintable() for p in parts):
        sink.add(
            "INVALID_NAME",
            "Entry name is empty, has empty or '.' components, or unprintable characters.",
            name,
        )
    return name


def read_structure(fh: BinaryIO, size: int, limits: Limits) -> ZipReport:
    """Parse and cross-check EOCD, central directory and local headers. Raises FatalZipError."""
    report = ZipReport()
    sink = _IssueSink(report.issues)
    eocd_offset, (_, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, _) = _find_eocd(fh, size)
    if disk != 0 or cd_disk != 0 or n_disk != n_total:
        raise FatalZipError("ZIP_MULTI_DISK", "Split (multi-disk) ZIP archives are not supported.")
    if n_total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise FatalZipError("ZIP64_UNSUPPORTED", "ZIP64 archives are not accepted.")
    if eocd_offset >= 20:
        locator = _read_exact(fh, eocd_offset - 20, 4, size, "the end record")
        if struct.unpack("<I", locator)[0] == ZIP64_LOCATOR_SIG:
            raise FatalZipError("ZIP64_UNSUPPORTED", "ZIP64 archives are not accepted.")
    if n_total > limits.max_entries:
        raise FatalZipError(
            "TOO_MANY_ENTRIES", f"The archive has {n_total} entries; the maximum is {limits.max_entries}."
        )
    if cd_offset + cd_size != eocd_offset:
        raise FatalZipError(
            "ZIP_CORRUPT_DIRECTORY",
            "The central directory does not end where the end record starts (prepended or hidden data).",
        )
    report.cd_offset = cd_offset

    fh.seek(cd_offset)
    pos = cd_offset
    for index in range(n_total):
        head = fh.read(CENTRAL.size)
        if len(head) != CENTRAL.size or pos + CENTRAL.size > eocd_offset:
            raise FatalZipError("ZIP_CORRUPT_DIRECTORY", f"Central directory record {index} is cut short.")
        (
            sig,
            _made_version,
            made_system,
            _needed,
            flags,
            method,
            _time,
            _date,
            crc,
            csize,
            usize,
            nlen,
            xlen,
            clen,
            disk_start,
            _internal,
            external,
            offset,
        ) = CENTRAL.unpack(head)
        if sig != CENTRAL_SIG:
            raise FatalZipError(
                "ZIP_CORRUPT_DIRECTORY", f"Central directory record {index} has a bad signature."
            )
        var = fh.read(nlen + xlen + clen)
        pos += CENTRAL.size + nlen + xlen + clen
        if len(var) != nlen + xlen + clen or pos > eocd_offset:
            raise FatalZipError("ZIP_CORRUPT_DIRECTORY", f"Central directory record {index} is cut short.")
        raw_name = var[:nlen]
        if disk_start != 0:
            raise FatalZipError("ZIP_MULTI_DISK", "Split (multi-disk) ZIP archives are not supported.")
        if 0xFFFFFFFF in (csize, usize, offset):
            raise FatalZipError("ZIP64_UNSUPPORTED", "ZIP64 entries are not accepted.")
        name = _check_name(raw_name, flags, limits, sink)
        shown = name if name is not None else raw_name.decode("utf-8", "backslashreplace")
        entry = Entry(
            name=shown,
            raw_name=raw_name,
            flags=flags,
            method=method,
            crc=crc,
            compressed_size=csize,
            file_size=usize,
            header_offset=offset,
            external_attr=external,
            create_system=made_system,
            is_dir=shown.endswith("/"),
        )
        if flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION):
            sink.add("ENCRYPTED_ENTRY", "Encrypted entries are not allowed.", shown)
            entry.readable = False
        if method not in (STORED, DEFLATED):
            sink.add(
                "UNSUPPORTED_COMPRESSION",
                f"Compression method {method} is not allowed; use STORED (0) or DEFLATED (8).",
                shown,
            )
            entry.readable = False
        if method == STORED and csize != usize:
            sink.add(
                "LOCAL_HEADER_MISMATCH", "A STORED entry must have equal compressed and real sizes.", shown
            )
            entry.readable = False
        if made_system in (HOST_UNIX, HOST_MACOS):
            mode = external >> 16
            kind = stat.S_IFMT(mode)
            if kind == stat.S_IFLNK:
                sink.add("SYMLINK_ENTRY", "Symbolic links are not allowed in packages.", shown)
                entry.readable = False
            elif kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                sink.add("SPECIAL_FILE_ENTRY", "Only regular files and folders are allowed.", shown)
                entry.readable = False
        report.entries.append(entry)
    if pos != eocd_offset:
        raise FatalZipError(
            "ZIP_CORRUPT_DIRECTORY", "The central directory size disagrees with its records (hidden data)."
        )

    _check_duplicates(report.entries, sink)
    _check_layout(fh, size, report, sink)
    return report


def _check_duplicates(entries: list[Entry], sink: _IssueSink) -> None:
    seen: dict[str, str] = {}
    seen_folded: dict[str, str] = {}
    for entry in entries:
        if entry.name in seen:
            sink.add("DUPLICATE_ENTRY", "Two entries have this name.", entry.name)
            continue
        seen[entry.name] = entry.name
        folded = entry.name.casefold()
        if folded in seen_folded:
            sink.add(
                "DUPLICATE_ENTRY_CASE",
                f"This name differs only by case from {seen_folded[folded]!r}; they collide on "
                "case-insensitive file systems.",
                entry.name,
            )
            continue
        seen_folded[folded] = entry.name
    # A file and a folder with the same path cannot both be extracted ("lib" the file vs "lib/x.js").
    folders = set()
    for entry in entries:
        parts = entry.name.rstrip("/").casefold().split("/")
        folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        if entry.is_dir:
            folders.add("/".join(parts))
    for entry in entries:
        if not entry.is_dir and entry.name.casefold() in folders:
            sink.add("DUPLICATE_ENTRY", "A file and a folder have this name.", entry.name)


def _check_layout(fh: BinaryIO, size: int, report: ZipReport, sink: _IssueSink) -> None:
    """Local headers agree with the central directory; entries tile [0, cd_offset) exactly."""
    ordered = sorted(report.entries, key=lambda e: e.header_offset)
    expected_next = 0
    for entry in ordered:
        head = _read_exact(fh, entry.header_offset, LOCAL.size, size, f"the local header of {entry.name!r}")
        sig, _needed, flags, method, _time, _date, crc, csize, usize, nlen, xlen = LOCAL.unpack(head)
        if sig != LOCAL_SIG:
            raise FatalZipError(
                "LOCAL_HEADER_MISMATCH",
                "The central directory points to something that is not an entry.",
                entry.name,
            )
        raw_name = _read_exact(
            fh, entry.header_offset + LOCAL.size, nlen, size, f"the name of {entry.name!r}"
        )
        if 0xFFFFFFFF in (csize, usize):
            sink.add(
                "ZIP64_UNSUPPORTED",
                "The local header uses ZIP64 sizes; write the archive without ZIP64 "
                "(e.g. no force_zip64, no streaming from stdin with zip).",
                entry.name,
            )
            entry.readable = False
            csize, usize = entry.compressed_size, entry.file_size  # still check the rest of the header
        problems = []
        if raw_name != entry.raw_name:
            problems.append(f"name {raw_name.decode('utf-8', 'backslashreplace')!r}")
        if method != entry.method:
            problems.append(f"compression method {method} vs {entry.method}")
        if (flags ^ entry.flags) & (FLAG_ENCRYPTED | FLAG_DESCRIPTOR | FLAG_STRONG_ENCRYPTION | FLAG_UTF8):
            problems.append("flags")
        uses_descriptor = bool(entry.flags & FLAG_DESCRIPTOR)
        for label, local_value, central_value in (
            ("CRC-32", crc, entry.crc),
            ("compressed size", csize, entry.compressed_size),
            ("size", usize, entry.file_size),
        ):
            if local_value != central_value and not (uses_descriptor and local_value == 0):
                problems.append(f"{label} {local_value} vs {central_value}")
        if problems:
            sink.add(
                "LOCAL_HEADER_MISMATCH",
                "The local header disagrees with the central directory: " + ", ".join(problems) + ".",
                entry.name,
            )
            entry.readable = False
        entry.data_offset = entry.header_offset + LOCAL.size + nlen + xlen
        end = entry.data_offset + entry.compressed_size
        if end > report.cd_offset:
            raise FatalZipError(
                "ZIP_TRUNCATED",
                "An entry's data runs into the central directory or past the end.",
                entry.name,
            )
        if uses_descriptor:
            end = _check_descriptor(fh, size, entry, end, sink)
        entry.end_offset = end
        if entry.header_offset < expected_next:
            raise FatalZipError("OVERLAPPING_ENTRIES", "This entry overlaps the previous one.", entry.name)
        if entry.header_offset > expected_next:
            where = "before the first entry" if expected_next == 0 else "between entries"
            sink.add(
                "ZIP_UNEXPECTED_DATA",
                f"{entry.header_offset - expected_next} bytes {where} belong to no entry.",
                entry.name,
            )
        expected_next = end
    if expected_next > report.cd_offset:
        raise FatalZipError("OVERLAPPING_ENTRIES", "The last entry overlaps the central directory.")
    if expected_next < report.cd_offset:
        sink.add(
            "ZIP_UNEXPECTED_DATA",
            f"{report.cd_offset - expected_next} bytes between the last entry and the central directory "
            "belong to no entry.",
        )


def _check_descriptor(fh: BinaryIO, size: int, entry: Entry, data_end: int, sink: _IssueSink) -> int:
    probe = _read_exact(fh, data_end, min(16, max(0, size - data_end)), size, "a data descriptor")
    if len(probe) >= 16 and struct.unpack_from("<I", probe)[0] == DESCRIPTOR_SIG:
        crc, csize, usize = struct.unpack_from("<III", probe, 4)
        end = data_end + 16
    elif len(probe) >= 12:
        crc, csize, usize = struct.unpack_from("<III", probe, 0)
        end = data_end + 12
    else:
        raise FatalZipError("ZIP_TRUNCATED", "The data descriptor is cut short.", entry.name)
    if (crc, csize, usize) != (entry.crc, entry.compressed_size, entry.file_size):
        sink.add(
            "LOCAL_HEADER_MISMATCH", "The data descriptor disagrees with the central directory.", entry.name
        )
        entry.readable = False
    return end


class _Budget:
    """Total inflated bytes across the archive."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0
        self.exhausted = False


class EntryLimitExceeded(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def inflate_entry(
    fh: BinaryIO,
    entry: Entry,
    limits: Limits,
    *,
    budget: _Budget | None = None,
    max_size: int | None = None,
    sink: Callable[[bytes], None] | None = None,
) -> None:
    """Inflate one entry in bounded chunks, verifying size and CRC-32.

    Raises EntryLimitExceeded (code = issue code) as soon as a limit is crossed or the data is bad.
    `max_size` adds a tighter per-entry bound (manifest, icon); `sink` receives the inflated chunks.
    """
    cap = limits.max_entry_size if max_size is None else min(max_size, limits.max_entry_size)
    ratio_bound = limits.max_ratio * max(entry.compressed_size, 1)
    produced = 0
    crc = 0
    remaining = entry.compressed_size
    fh.seek(entry.data_offset)
    inflater = zlib.decompressobj(-15) if entry.method == DEFLATED else None

    def take(chunk: bytes) -> None:
        nonlocal produced, crc
        if not chunk:
            return
        produced += len(chunk)
        if produced > cap:
            if max_size is not None and cap == max_size:
                raise EntryLimitExceeded("TOO_LARGE", f"more than {cap} bytes")
            raise EntryLimitExceeded(
                "ENTRY_TOO_LARGE", f"The entry inflates to more than {limits.max_entry_size} bytes."
            )
        if produced > limits.ratio_min_size and produced > ratio_bound:
            raise EntryLimitExceeded(
                "ZIP_BOMB_RATIO",
                f"The entry inflates more than {limits.max_ratio} times its compressed size "
                f"({entry.compressed_size} bytes).",
            )
        if budget is not None:
            budget.used += len(chunk)
            if budget.used > budget.limit:
                budget.exhausted = True
                raise EntryLimitExceeded(
                    "TOTAL_TOO_LARGE", f"The archive inflates to more than {budget.limit} bytes in total."
                )
        crc = zlib.crc32(chunk, crc)
        if sink is not None:
            sink(chunk)

    while remaining > 0:
        data = fh.read(min(READ_CHUNK, remaining))
        if not data:
            raise EntryLimitExceeded("CORRUPT_ENTRY", "The entry's data is cut short.")
        remaining -= len(data)
        if inflater is None:
            take(data)
            continue
        if inflater.eof:
            raise EntryLimitExceeded("CORRUPT_ENTRY", "Data follows the end of the compressed stream.")
        try:
            take(inflater.decompress(data, INFLATE_CHUNK))
            while inflater.unconsumed_tail:
                take(inflater.decompress(inflater.unconsumed_tail, INFLATE_CHUNK))
        except zlib.error as exc:
            raise EntryLimitExceeded(
                "CORRUPT_ENTRY", f"The entry's compressed data is corrupt ({exc})."
            ) from None
    if inflater is not None and entry.compressed_size == 0 and produced == 0:
        inflater = None  # some writers store an empty file as DEFLATED with no data at all
    if inflater is not None:
        try:
            # At most one pending match (≤ 258 bytes) can remain once all input has been consumed.
            take(inflater.flush(INFLATE_CHUNK))
        except zlib.error as exc:
            raise EntryLimitExceeded(
                "CORRUPT_ENTRY", f"The entry's compressed data is corrupt ({exc})."
            ) from None
        if not inflater.eof or inflater.unused_data:
            raise EntryLimitExceeded(
                "CORRUPT_ENTRY", "The entry's compressed stream is incomplete or padded."
            )
    if produced != entry.file_size:
        raise EntryLimitExceeded(
            "SIZE_MISMATCH", f"The entry inflates to {produced} bytes but its header says {entry.file_size}."
        )
    if crc != entry.crc:
        raise EntryLimitExceeded(
            "CRC_MISMATCH", "The entry's data does not match its CRC-32 (corrupt archive)."
        )


def read_entry(fh: BinaryIO, entry: Entry, limits: Limits, max_size: int) -> bytes:
    """Inflate a small entry fully into memory, bounded by max_size (EntryLimitExceeded 'TOO_LARGE')."""
    parts: list[bytes] = []
    inflate_entry(fh, entry, limits, max_size=max_size, sink=parts.append)
    return b"".join(parts)


def scan_entries(fh: BinaryIO, entries: list[Entry], limits: Limits, issues: list[Issue]) -> None:
    """Inflate every readable entry in archive order, enforcing size, ratio, total and CRC."""
    budget = _Budget(limits.max_total_uncompressed)
    sink = _IssueSink(issues)
    for entry in sorted(entries, key=lambda e: e.data_offset):
        if not entry.readable:
            continue
        try:
            inflate_entry(fh, entry, limits, budget=budget)
        except EntryLimitExceeded as exc:
            entry.readable = False
            sink.add(exc.code, str(exc), entry.name)
            if budget.exhausted:
                return
